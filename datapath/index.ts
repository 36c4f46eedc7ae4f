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
export {
  AFFINITY_TIMEOUT_MASK,
  BACKEND_STATE_CODE,
  LB_ALGORITHM_CODE,
  PROTOCOL_NUMBER,
  ipv4ToNumber,
  numberToIPv4,
  protocolOf,
  type Lb4Backend,
  type Lb4Key,
  type Lb4ReverseNat,
  type Lb4Service,
  type Lb4SrcRangeKey,
  type LbAffinityMatch,
  type LBMap,
  type LBMaps,
  type MaglevMap,
} from './lb/lb-maps.js';
export { memoryLBMaps, type MemoryLBMapsOptions } from './lb/memory-lb-maps.js';
export { LBMapsNotFoundError, kernelLBMaps, openPinnedLBMaps } from './lb/kernel-lb-maps.js';
export {
  InjectedFaultError,
  countingLBMaps,
  faultyLBMaps,
  type CountingLBMaps,
  type FaultOptions,
  type FaultyLBMaps,
  type WriteCounts,
} from './lb/lb-map-wrappers.js';
export { IDAllocator, IDExhaustedError } from './lb/id-allocator.js';
export { LBOperations, type LBOperationsOptions } from './lb/lb-operations.js';
export { BACKEND_ID_LIMIT, LBMapState, SERVICE_ID_LIMIT } from './lb/lb-map-state.js';
export { dumpLBMaps, formatLBDump, type LBDumpEntry, type LBDumpLine } from './lb/lb-dump.js';
export { frontendStatusAccessor, newLBReconciler, type LBReconcilerOptions } from './lb/lb-reconciler.js';
export * from './policy/port-prefixes.js';
export * from './policy/policy-map-entries.js';
export * from './policy/endpoint-policy-map.js';
export * from './policy/ipcache-entry.js';
export * from './policy/ipcache-operations.js';
export * from './policy/endpoint-policy-operations.js';
export * from './policy/policy-reconcilers.js';
export * from './inspect/index.js';
