// Inspection of a loaded datapath from its pins alone (no object load, no
// writes): the maps the CLI's policy dump, ct list and monitor --direct read,
// decoded. Re-exported by datapath/index.ts.
export { DatapathMapsNotFoundError, openPinnedEventReader, openPinnedMaps } from './pinned-maps.js';
export type { InspectedMapName, PinnedEventReader, PinnedMaps } from './pinned-maps.js';
export { decodeConntrack, dumpConntrack, monotonicSeconds } from './conntrack-dump.js';
export type { ConntrackEntry } from './conntrack-dump.js';
export { decodePolicyEntry, dumpPolicy } from './policy-dump.js';
export type { EndpointPolicyDump, IpcacheDumpEntry, PolicyDump, PolicyDumpEntry, PolicyDumpMaps } from './policy-dump.js';
export { attachedDeviceNames } from './device-names.js';
