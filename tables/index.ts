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

export type { Labels } from './labels.js';

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
  type SelectOptions,
} from './loadbalancer/select-backends.js';
export {
  ServiceFlag,
  frontendFlagBits,
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
export {
  FRONTEND_TABLE_COLUMNS,
  NODE_ADDRESS_COLUMNS,
  frontendTableRow,
  frontendToJSON,
  newLBTables,
  nodeAddressRow,
  type BackendsTable,
  type Frontend,
  type FrontendBackend,
  type FrontendsTable,
  type LBTables,
  type NodeAddressesTable,
  type ServicesTable,
} from './loadbalancer/lb-tables.js';
export { backendKeyType, ipKeyPrefix, l3n4AddrKeyString, l3n4AddrKeyType, type BackendKey } from './loadbalancer/lb-keys.js';
export {
  FrontendConflictError,
  LBWriteTxn,
  LBWriter,
  sameBackend,
  ServiceSourceConflictError,
  type LBApplyResult,
  type LBWriterOptions,
} from './loadbalancer/lb-writer.js';
export {
  LB_OBJECT_KINDS,
  UnsupportedKindError,
  type LBObjectChange,
  type LBObjectKind,
} from './loadbalancer/lb-object-changes.js';
export { fromNode } from './loadbalancer/convert-node.js';
export { mergeSliceBackends, type SliceRecord } from './loadbalancer/slice-store.js';

// Policy model.
export {
  SELECT_ALL,
  formatLabelSelector,
  isLabelKey,
  isLabelValue,
  parseLabelSelector,
  selectorMatches,
  selectsAll,
  type LabelSelector,
  type SelectorOperator,
  type SelectorRequirement,
} from './policy/label-selector.js';
export {
  fromNetworkPolicies,
  fromNetworkPolicy,
  type IPBlockPeer,
  type NetworkPolicy,
  type PodsPeer,
  type PolicyPeer,
  type PolicyPort,
  type PolicyProtocol,
  type PolicyRule,
  type PolicyType,
} from './policy/network-policy.js';
export {
  CIDR_IDENTITY_MAX,
  CIDR_IDENTITY_MIN,
  IdentityAllocator,
  IdentityExhaustedError,
  LOCAL_IDENTITY_FLAG,
  NAMESPACE_IDENTITY_LABEL,
  NAMESPACE_LABELS_IDENTITY_PREFIX,
  POD_IDENTITY_MAX,
  POD_IDENTITY_MIN,
  ReservedIdentity,
  canonicalLabels,
  endpointIdentityLabels,
  type IdentityAllocation,
  type IdentityKind,
  type RestoreReport,
} from './policy/identity.js';
export {
  IP_PROTOCOL,
  NAMESPACE_NAME_LABEL,
  PolicyResolver,
  canonicalEntries,
  computeEndpointPolicy,
  namespaceLabelsFor,
  namespaceLabelsLookup,
  podsPeerMatches,
  policyCIDRPrefixes,
  policySelects,
  type EndpointPolicy,
  type NamedPort,
  type PolicyContext,
  type PolicyDirection,
  type PolicyEndpoint,
  type PolicyEntry,
} from './policy/endpoint-policy.js';
export { endpointsToRecompute, type PolicyChange } from './policy/policy-recompute.js';
export { namedPortsOfPod } from './policy/pod-ports.js';
export {
  makeEndpointPoliciesTable,
  makeEndpointsTable,
  makeIdentitiesTable,
  makeIpcacheTable,
  makeNamespacesTable,
  makePoliciesTable,
  newPolicyTables,
  type EndpointPolicyRow,
  type EndpointRow,
  type IdentityRow,
  type IdentityRowKind,
  type IpcacheRow,
  type IpcacheSource,
  type NamespaceRow,
  type PolicyRow,
  type PolicyTables,
} from './policy/policy-tables.js';
export { HOST_INTERFACE_ANNOTATION, fromPod, type PodConversionOptions } from './policy/convert-pod.js';
export { fromNamespace } from './policy/convert-namespace.js';
export { policyRowOf } from './policy/policy-row.js';
export {
  hostRouteInterface,
  parseProcNetRoute,
  systemInterfaceResolver,
  type InterfaceResolver,
  type KernelRoute,
} from './policy/host-interface.js';
export {
  PolicyWriter,
  type PolicyObjectChange,
  type PolicyObjectKind,
  type PolicyWriteReport,
} from './policy/policy-writer.js';
export {
  PolicyController,
  type PolicyControllerOptions,
  type PolicyStepReport,
} from './policy/policy-controller.js';
