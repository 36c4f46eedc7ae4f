// The shapes generated from BTF: plain data describing structs and maps, embedded in
// the generated file and compared against an object's BTF at load time.

/** One field as C sees it (anonymous struct/union members are flattened into the parent). */
export interface FieldLayout {
  /** C member name. */
  name: string;
  /** Byte offset from the start of the struct (of the containing bytes, for bitfields). */
  offset: number;
  /** Size in bytes (of the containing bytes, for bitfields). */
  size: number;
  /** C type as declared: `__be16`, `__u32[3]`, `struct fx_backend`. */
  type: string;
  /** Bitfields: bit offset from the start of the struct, and width. */
  bitOffset?: number;
  bitSize?: number;
}

export interface StructLayout {
  /** C tag (`lb4_key`), typedef name, or `parent.member` for anonymous named members. */
  name: string;
  kind: 'struct' | 'union';
  size: number;
  fields: FieldLayout[];
}

export interface MapLayout {
  name: string;
  /** Map type name (HASH, LPM_TRIE, ...). */
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  pinning: 'none' | 'by-name';
  /** C type of key and value (`struct lb4_key`, `__u32`), or `bytes[N]` when only a size is declared. */
  keyType: string;
  valueType: string;
  inner?: MapLayout;
}

export interface LayoutSet {
  structs: Record<string, StructLayout>;
  maps: Record<string, MapLayout>;
}
