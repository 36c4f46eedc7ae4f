// Public API of flagella/datapath. Nothing outside this folder imports its internals.
export {};
export * from './kernel/index.js';
export * from './loader/index.js';
// MAGLEV_TABLE_SIZES is exported by the loader (same list); the rest of Maglev here.
export {
  DEFAULT_MAGLEV_SEED,
  DEFAULT_MAGLEV_TABLE_SIZE,
  MAGLEV_SENTINEL,
  Maglev,
  MaglevError,
  maglevBackendIdentity,
  maglevOccupancy,
  parseMaglevSeed,
  type MaglevBackend,
  type MaglevOptions,
  type MaglevSeeds,
} from './lb/maglev.js';
export { murmur3x64128 } from './lb/murmur3.js';
export * from './policy/port-prefixes.js';
export * from './policy/policy-map-entries.js';
export * from './policy/endpoint-policy-map.js';
export * from './policy/ipcache-entry.js';
export * from './policy/ipcache-operations.js';
export * from './policy/endpoint-policy-operations.js';
export * from './policy/policy-reconcilers.js';
