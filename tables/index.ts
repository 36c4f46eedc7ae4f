// Public API of flagella/tables. Nothing outside this folder imports its internals.

// Errors of converting external objects into rows.
export {
  ConversionError,
  FieldError,
  convertEach,
  type BatchResult,
  type ConvertedKind,
} from './conversion-error.js';

// Addresses and prefixes.
export {
  InvalidAddressError,
  canonicalIP,
  compareBytes,
  compareIPs,
  formatIPBytes,
  ipFamily,
  isValidIP,
  parseIPBytes,
  unmapIPBytes,
  unspecifiedIP,
  writeIP16,
  type IPFamily,
} from './net/ip-address.js';
export {
  canonicalPrefix,
  formatPrefix,
  parsePrefix,
  prefixContains,
  prefixContainsIP,
  type Prefix,
} from './net/prefix.js';

// Load balancing model.
export {
  InvalidL3n4AddrError,
  L3N4ADDR_KEY_SIZE,
  L4_PROTOCOLS,
  compareL3n4Addr,
  equalL3n4Addr,
  formatHostPort,
  formatL3n4Addr,
  l3n4Addr,
  l3n4AddrFromKey,
  l3n4AddrKey,
  l3n4Family,
  parseL3n4Addr,
  type L3n4Addr,
  type L4Protocol,
  type Scope,
} from './loadbalancer/l3n4-addr.js';
export {
  DEFAULT_AFFINITY_TIMEOUT_SECONDS,
  HEADLESS_LABEL,
  LB_ALGORITHM_ANNOTATIONS,
  SOURCE_RANGES_POLICY_ANNOTATION,
  type LBAlgorithm,
  type Labels,
  type Service,
  type ServiceType,
  type SourceRangesPolicy,
  type TrafficPolicy,
} from './loadbalancer/service.js';
export type { FrontendParams, FrontendType } from './loadbalancer/frontend.js';
export { BACKEND_STATES, DEFAULT_BACKEND_WEIGHT, type Backend, type BackendState } from './loadbalancer/backend.js';
export type { NodeAddress } from './loadbalancer/node-address.js';
export {
  fromService,
  fromServices,
  type ServiceConversion,
  type ServiceConversionOptions,
} from './loadbalancer/convert-service.js';
export {
  SERVICE_NAME_LABEL,
  endpointState,
  fromEndpointSlice,
  fromEndpointSlices,
  type EndpointSliceConversion,
  type EndpointSliceConversionOptions,
} from './loadbalancer/convert-endpoint-slice.js';
export { expandNodePort, isSurrogateAddress } from './loadbalancer/expand-node-port.js';
export {
  localBackendsOnly,
  selectBackends,
  type BackendSelection,
  type LocalNode,
} from './loadbalancer/select-backends.js';
export {
  ServiceFlag,
  frontendFlags,
  frontendLBAlgorithm,
  serviceFlagNames,
  type FlagEntry,
  type FlagSet,
  type FrontendFlagOptions,
  type LBAlgorithmOptions,
} from './loadbalancer/frontend-flags.js';
export {
  BACKEND_COLUMNS,
  FRONTEND_COLUMNS,
  MAX_LISTED_BACKENDS,
  SERVICE_COLUMNS,
  backendRow,
  backendsText,
  formatDuration,
  frontendRow,
  serviceFlagsText,
  serviceRow,
  type StatusCells,
} from './loadbalancer/format.js';
