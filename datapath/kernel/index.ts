// Public face of the kernel layer: bpf(2) through koffi, libbpf object loading, links,
// ring buffers, environment checks and the layouts generated from BTF.
export { BpfError, type BpfErrorDetails } from './bpf-error.js';
export { errnoName } from './errno.js';
export {
  AttachType,
  BpfCmd,
  LinkType,
  MapFlag,
  MapType,
  ProgType,
  UpdateFlag,
  XdpFlag,
  mapTypeName,
  progTypeName,
  type MapTypeName,
  type ProgTypeName,
  type UpdateMode,
} from './bpf-constants.js';
export { BpfMap, type DeleteOptions, type MapCreateOptions, type MapOpenOptions } from './bpf-map.js';
export { MapBatch, type BatchChunk, type BatchOptions } from './map-batch.js';
export { BpfProgram, type ProgLoadOptions, type TestRunOptions, type TestRunResult } from './bpf-program.js';
export { BpfLink, queryTcx, type LinkTarget, type TcxDirection, type TcxQueryResult, type XdpMode } from './bpf-link.js';
export { BpfObject, DEFAULT_PIN_ROOT, type MapConfig, type ObjectOpenOptions } from './bpf-object.js';
export { libbpfOpenOptsLayout, setLibbpfLogger, type KernelLogger } from './libbpf.js';
export { OpenFlag } from './pins.js';
export type { LinkInfo, MapInfo, ProgInfo } from './obj-info.js';
export { RingBuffer, type RingBufferStartOptions } from './ring-buffer.js';
export { possibleCpuCount, perCpuStride } from './per-cpu.js';
export { ifindexOf, netnsPath, withNetns } from './netns.js';
export { call, exit, insn, ldMapFd, movImm, returnProgram } from './insn.js';
export { checkEnvironment, EnvironmentError, type EnvironmentReport, type EnvironmentOptions } from './environment.js';
export {
  arrayCodec,
  bytesCodec,
  checkLength,
  checkNumber,
  checkS16,
  checkS32,
  checkS64,
  checkS8,
  checkU16,
  checkU32,
  checkU64,
  checkU8,
  dataView,
  readBits,
  readBytes,
  scalarCodecs,
  writeBits,
  writeBytes,
  zeroBytes,
  type Codec,
  type CodecValue,
} from './codec.js';
export { TypedMap, type MapSpec, type TypedMapCreateOptions } from './typed-map.js';
export type { FieldLayout, LayoutSet, MapLayout, StructLayout } from './btf/layout-types.js';
export { LayoutError, layoutsFromObject, camelCase, pascalCase } from './btf/object-model.js';
export { diffLayouts, LayoutDriftError, verifyLayouts } from './btf/verify-layouts.js';
export { generateLayouts, type GenerateResult } from './btf/generate.js';
export { ElfError } from './btf/elf.js';
export { BtfError, parseBtf } from './btf/btf-reader.js';
