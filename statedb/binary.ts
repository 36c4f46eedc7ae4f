// Binary strings: every index key is a JS string holding one byte per char
// (char codes 0..255). Native string comparison is then bytewise, Map
// lookups hash them cheaply, and they convert to Buffers (LMDB keys, HTTP)
// with the latin1 codec at no loss.

/** Bytes to a binary string. */
export function bytesToBinary(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** A binary string back to bytes. */
export function binaryToBytes(bin: string): Uint8Array {
  return new Uint8Array(Buffer.from(bin, 'latin1'));
}

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/** UTF-8 bytes of s as a binary string (ASCII strings are returned as they are). */
export function utf8ToBinary(s: string): string {
  // A plain loop beats a regex on the short keys indexes hold.
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

/** Inverse of utf8ToBinary. */
export function binaryToUtf8(bin: string): string {
  return NON_ASCII.test(bin) ? Buffer.from(bin, 'latin1').toString('utf8') : bin;
}

/**
 * Escapes 0x00 and 0x01 (0x00 -> 01 01, 0x01 -> 01 02) so that 0x00 can
 * terminate a variable-length component. The escaping preserves bytewise
 * order and is prefix-free, so `escape(a) + "\0" + rest` sorts by a first,
 * then by rest, and an exact match on a is a prefix match on escape(a)+"\0".
 */
export function escapeComponent(bin: string): string {
  // Slices joined once: appending char by char would build a deep rope,
  // which every later comparison in a tree walks again (measured: about 3x
  // slower comparisons on 24-byte address keys).
  let parts: string[] | null = null;
  let start = 0;
  for (let i = 0; i < bin.length; i++) {
    const c = bin.charCodeAt(i);
    if (c < 2) {
      (parts ??= []).push(bin.slice(start, i), c === 0 ? '\x01\x01' : '\x01\x02');
      start = i + 1;
    }
  }
  if (parts === null) return bin;
  parts.push(bin.slice(start));
  return parts.join('');
}

/** Decodes one escaped, 0x00-terminated component starting at `at`; returns it and the offset after the terminator. */
export function unescapeComponent(bin: string, at: number): { value: string; next: number } {
  let out = '';
  let i = at;
  for (; i < bin.length; i++) {
    const c = bin.charCodeAt(i);
    if (c === 0) return { value: out, next: i + 1 };
    if (c === 1) {
      const d = bin.charCodeAt(++i);
      out += d === 1 ? '\x00' : '\x01';
    } else out += bin[i];
  }
  return { value: out, next: i };
}

/** Hex rendering of a binary string, for error messages and CLI output. */
export function binaryToHex(bin: string): string {
  return Buffer.from(bin, 'latin1').toString('hex');
}

/** A key shown in an error message: printable ASCII as is, anything else as hex. */
export function describeKey(bin: string): string {
  return /^[\x20-\x7e]*$/.test(bin) ? JSON.stringify(bin) : `0x${binaryToHex(bin)}`;
}
