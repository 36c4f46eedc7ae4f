// Public API of flagella/datapath. Nothing outside this folder imports its internals.
export {};
export * from './kernel/index.js';
export * from './loader/index.js';
export * from './lb/maglev.js';
export { murmur3x64128 } from './lb/murmur3.js';
export * from './policy/port-prefixes.js';
