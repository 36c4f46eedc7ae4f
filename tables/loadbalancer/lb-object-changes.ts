// Kubernetes object changes as the agent's sources deliver them (Service,
// EndpointSlice, Node), applied through an LBWriteTxn. The shapes here are
// structurally those of the agent's ObjectSink, so LBWriter is a sink
// without tables/ depending on the agent.
import type { V1EndpointSlice, V1Node, V1ObjectMeta, V1Service } from '@kubernetes/client-node';
import { ConversionError, type ConvertedKind } from '../conversion-error.js';
import { nameForErrors, objectName } from '../validate.js';
import { fromEndpointSlice } from './convert-endpoint-slice.js';
import { fromNode } from './convert-node.js';
import { fromService } from './convert-service.js';
import type { LBWriteTxn } from './lb-writer.js';

/** One object created/updated or deleted; for a delete `object` is its last known state. */
export interface LBObjectChange {
  readonly type: 'upsert' | 'delete';
  readonly kind: string;
  readonly object: unknown;
}

/** The kinds LBWriter applies. */
export const LB_OBJECT_KINDS = ['Service', 'EndpointSlice', 'Node'] as const;
export type LBObjectKind = (typeof LB_OBJECT_KINDS)[number];

/** A change of a kind the load-balancing writer does not handle. */
export class UnsupportedKindError extends Error {
  override readonly name = 'UnsupportedKindError';
  constructor(readonly kind: string) {
    super(`the load-balancing writer does not handle ${kind} objects (only ${LB_OBJECT_KINDS.join(', ')})`);
  }
}

export interface ObjectChangeOptions {
  readonly nodeName: string;
  readonly source: string;
  readonly nodePort: boolean;
}

/**
 * Applies one change. Throws (for this object only) ConversionError for an
 * invalid object, ServiceSourceConflictError, FrontendConflictError,
 * UnsupportedKindError. A Node other than this node is ignored; deleting an
 * unknown object is a no-op.
 */
export function applyObjectChange(w: LBWriteTxn, change: LBObjectChange, opts: ObjectChangeOptions): void {
  switch (change.kind) {
    case 'Service': {
      const svc = change.object as V1Service;
      if (change.type === 'delete') w.deleteService(nameOf('Service', svc?.metadata));
      else w.upsertService(fromService(svc, { source: opts.source, nodePort: opts.nodePort }));
      return;
    }
    case 'EndpointSlice': {
      const slice = change.object as V1EndpointSlice;
      if (change.type === 'delete') w.deleteEndpointSlice(nameOf('EndpointSlice', slice?.metadata));
      else w.upsertEndpointSlice(fromEndpointSlice(slice, { source: opts.source }));
      return;
    }
    case 'Node': {
      const node = change.object as V1Node;
      if (change.type === 'delete') {
        if (nameOf('Node', node?.metadata, false) === opts.nodeName) w.setNodeAddresses([]);
        return;
      }
      const converted = fromNode(node);
      if (converted.name === opts.nodeName) w.setNodeAddresses(converted.addresses);
      return;
    }
    default:
      throw new UnsupportedKindError(change.kind);
  }
}

function nameOf(kind: ConvertedKind, meta: V1ObjectMeta | undefined, namespaced = true): string {
  try {
    return objectName(meta, namespaced);
  } catch (err) {
    throw ConversionError.from(kind, nameForErrors(meta), err);
  }
}

/** The tables whose initialization waits for a source of each kind. */
export function initializedTables(kind: string): readonly ('services' | 'frontends' | 'backends' | 'nodeAddresses')[] {
  switch (kind) {
    case 'Service':
      return ['services', 'frontends'];
    case 'EndpointSlice':
      return ['backends', 'frontends'];
    case 'Node':
      // NodePort expansions depend on node addresses: prune must wait for them.
      return ['nodeAddresses', 'frontends'];
    default:
      return [];
  }
}
