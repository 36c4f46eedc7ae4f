// Field validators shared by the Kubernetes converters. Each throws a
// FieldError naming the field path, the problem and the value.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { FieldError } from './conversion-error.js';
import { formatIPBytes, InvalidAddressError, parseIPBytes, unmapIPBytes } from './net/ip-address.js';
import { canonicalPrefix } from './net/prefix.js';

/** The L4 protocols Kubernetes ports may name. */
export type K8sProtocol = 'TCP' | 'UDP' | 'SCTP';

/**
 * `namespace/name` of an object. Throws FieldError when either is missing
 * or not a DNS label-ish string; `namespaced: false` for cluster-scoped kinds.
 */
export function objectName(meta: V1ObjectMeta | undefined, namespaced = true): string {
  const name = meta?.name;
  if (typeof name !== 'string' || name === '') throw new FieldError('metadata.name', 'is required');
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) {
    throw new FieldError('metadata.name', 'must be lowercase alphanumerics, - and .', name);
  }
  if (!namespaced) return name;
  const ns = meta?.namespace;
  if (typeof ns !== 'string' || ns === '') throw new FieldError('metadata.namespace', 'is required');
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(ns)) {
    throw new FieldError('metadata.namespace', 'must be a DNS label', ns);
  }
  return `${ns}/${name}`;
}

/** The name to put in an error about an object whose name may itself be broken. */
export function nameForErrors(meta: V1ObjectMeta | undefined): string {
  const name = typeof meta?.name === 'string' && meta.name !== '' ? meta.name : '<unnamed>';
  return typeof meta?.namespace === 'string' && meta.namespace !== '' ? `${meta.namespace}/${name}` : name;
}

/** A port 1..65535 (or 0..65535 with allowZero). */
export function portNumber(value: unknown, field: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1) || value > 65535) {
    throw new FieldError(field, `must be an integer in ${allowZero ? 0 : 1}..65535`, value);
  }
  return value;
}

/** TCP, UDP or SCTP; missing means TCP (the Kubernetes default). */
export function k8sProtocol(value: unknown, field: string): K8sProtocol {
  if (value === undefined || value === null) return 'TCP';
  if (value === 'TCP' || value === 'UDP' || value === 'SCTP') return value;
  throw new FieldError(field, 'must be TCP, UDP or SCTP', value);
}

/**
 * IANA_SVC_NAME (RFC 6335 §5.1), the syntax of named ports: 1-15 lowercase
 * letters, digits and '-', at least one letter, no '-' at either end, no '--'.
 */
export function isPortName(value: string): boolean {
  return (
    value.length >= 1 &&
    value.length <= 15 &&
    /^[a-z0-9-]+$/.test(value) &&
    /[a-z]/.test(value) &&
    !value.startsWith('-') &&
    !value.endsWith('-') &&
    !value.includes('--')
  );
}

/** A canonical IP address (IPv4-mapped IPv6 becomes IPv4). */
export function ipField(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new FieldError(field, 'must be an IP address', value);
  try {
    return formatIPBytes(unmapIPBytes(parseIPBytes(value)));
  } catch (err) {
    throw new FieldError(field, err instanceof InvalidAddressError ? `invalid IP address: ${err.reason}` : 'invalid IP address', value);
  }
}

/** A canonical prefix (host bits cleared). */
export function prefixField(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new FieldError(field, 'must be a CIDR prefix', value);
  try {
    return canonicalPrefix(value);
  } catch (err) {
    throw new FieldError(field, err instanceof InvalidAddressError ? `invalid CIDR: ${err.reason}` : 'invalid CIDR', value);
  }
}

/** A string-to-string map such as labels, or {} when missing. */
export function stringMap(value: unknown, field: string): Readonly<Record<string, string>> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new FieldError(field, 'must be a map of strings', value);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new FieldError(`${field}[${JSON.stringify(k)}]`, 'must be a string', v);
    out[k] = v;
  }
  return out;
}

/** An array, or [] when missing. */
export function arrayField<T>(value: T[] | undefined | null, field: string): readonly T[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new FieldError(field, 'must be a list', value);
  return value;
}
