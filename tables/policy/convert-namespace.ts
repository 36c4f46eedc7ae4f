// Kubernetes Namespace -> namespace row (its labels, which namespace
// selectors of policies match and pod identities carry).
import type { V1Namespace } from '@kubernetes/client-node';
import { ConversionError, FieldError } from '../conversion-error.js';
import { nameForErrors, objectName, stringMap } from '../validate.js';
import { isLabelKey, isLabelValue } from './label-selector.js';
import type { NamespaceRow } from './policy-tables.js';

/** Throws ConversionError naming the namespace and the field (bad name, bad labels). */
export function fromNamespace(ns: V1Namespace): NamespaceRow {
  try {
    const name = objectName(ns.metadata, false);
    const labels = stringMap(ns.metadata?.labels, 'metadata.labels');
    for (const [k, v] of Object.entries(labels)) {
      if (!isLabelKey(k) || !isLabelValue(v)) throw new FieldError(`metadata.labels[${JSON.stringify(k)}]`, 'is not a valid label', v);
    }
    return { name, labels };
  } catch (err) {
    throw ConversionError.from('Namespace', nameForErrors(ns?.metadata), err);
  }
}
