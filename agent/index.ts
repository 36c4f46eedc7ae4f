// Public API of flagella/agent. Nothing outside this folder imports its internals.
export {};
export * from './sources/index.js';
