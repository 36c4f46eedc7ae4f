// The datapath loader: the public face of datapath/loader, re-exported by
// datapath/index.ts.
export { loadDatapath, DEFAULT_OBJECT_PATH, type LoadOptions, type DatapathMapName } from './load.js';
export { Datapath, type DatapathMaps } from './datapath.js';
export {
  LinkManager,
  linkPinName,
  type AttachedLink,
  type AttachMode,
  type AttachOptions,
  type DatapathPrograms,
  type DeviceRef,
  type Hook,
} from './attach.js';
export {
  DEFAULT_CONFIG,
  LB_ALG_MAGLEV,
  LB_ALG_RANDOM,
  MAGLEV_TABLE_SIZES,
  encodeConfig,
  resolveConfig,
  type CtTimeouts,
  type DatapathConfig,
  type DatapathConfigInput,
  type LbAlgorithm,
} from './config.js';
export { diffCounters, readCounters, type Counter, type Counters } from './counters.js';
export { EVENT_FIELDS, EVENT_SIZE, EventReader, decodeEvent, type DatapathEvent, type EventHook, type EventType } from './events.js';
export { DatapathConfigError, PinnedMapMismatchError, XdpOnVethError } from './errors.js';
export { deviceDriver } from './device-driver.js';
export { Reason, REASON_DROP_FIRST, REASON_MAX, isDrop, reasonName, type ReasonName } from './reasons.js';
