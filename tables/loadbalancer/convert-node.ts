// Kubernetes Node -> this node's addresses (the ones NodePort services answer on).
import type { V1Node } from '@kubernetes/client-node';
import { ConversionError, FieldError } from '../conversion-error.js';
import { ipFamily } from '../net/ip-address.js';
import { arrayField, ipField, nameForErrors, objectName } from '../validate.js';
import type { NodeAddress } from './node-address.js';

/** The Node address types NodePort services are exposed on. */
const NODEPORT_ADDRESS_TYPES: ReadonlySet<string> = new Set(['InternalIP', 'ExternalIP']);

/**
 * The addresses of a Node object: `status.addresses` of type InternalIP and
 * ExternalIP, deduplicated, in the object's order. The first address of each
 * family is primary; every one answers NodePort. Throws ConversionError
 * (naming the field) for a bad name or IP.
 */
export function fromNode(node: V1Node): { readonly name: string; readonly addresses: readonly NodeAddress[] } {
  try {
    const name = objectName(node.metadata, false);
    const seen = new Set<string>();
    const families = new Set<number>();
    const addresses: NodeAddress[] = [];
    arrayField(node.status?.addresses, 'status.addresses').forEach((a, i) => {
      if (typeof a !== 'object' || a === null) throw new FieldError(`status.addresses[${i}]`, 'must be an object', a);
      if (!NODEPORT_ADDRESS_TYPES.has(a.type)) return;
      const ip = ipField(a.address, `status.addresses[${i}].address`);
      if (seen.has(ip)) return;
      seen.add(ip);
      const family = ipFamily(ip);
      addresses.push({ ip, nodePort: true, primary: !families.has(family), device: '' });
      families.add(family);
    });
    return { name, addresses };
  } catch (err) {
    throw ConversionError.from('Node', nameForErrors(node?.metadata), err);
  }
}
