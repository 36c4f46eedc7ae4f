// Public API of flagella/datapath. Nothing outside this folder imports its internals.
export {};
export * from './loader/index.js';
