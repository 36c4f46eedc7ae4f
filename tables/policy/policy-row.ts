// Kubernetes NetworkPolicy -> policy row. A policy that fails validation is
// still a row, with its error and no policy: it enforces nothing, and the
// error stays visible on the object it belongs to. Only a policy whose very
// name is broken cannot be a row.
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { ConversionError } from '../conversion-error.js';
import { nameForErrors, objectName } from '../validate.js';
import { fromNetworkPolicy } from './network-policy.js';
import type { PolicyRow } from './policy-tables.js';

/**
 * The row of a NetworkPolicy: `{policy, error: null}` when valid, `{policy:
 * null, error}` when not (the ConversionError's message: object, field path,
 * problem, value). Throws ConversionError only when metadata.name or
 * metadata.namespace is missing or invalid (the row would have no key).
 */
export function policyRowOf(np: V1NetworkPolicy): PolicyRow {
  let name: string;
  try {
    name = objectName(np?.metadata);
  } catch (err) {
    throw ConversionError.from('NetworkPolicy', nameForErrors(np?.metadata), err);
  }
  const namespace = name.slice(0, name.indexOf('/'));
  try {
    return { name, namespace, policy: fromNetworkPolicy(np), error: null };
  } catch (err) {
    return { name, namespace, policy: null, error: ConversionError.from('NetworkPolicy', name, err).message };
  }
}
