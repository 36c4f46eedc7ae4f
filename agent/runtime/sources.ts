// The agent's sources: the YAML directory (--source-dir), Kubernetes
// (--k8s / --kubeconfig) and the API (always). Each is constructed here,
// which registers its initializers on the tables it feeds; they are started
// later, after the reconcilers, so nothing is pruned before every source's
// initial sync.
import { ApiSource } from '../api/index.js';
import type { Logger } from '../observability/index.js';
import { FileSource, KubernetesSource, loadKubeConfig, type KubeKind, type Source } from '../sources/index.js';
import type { AgentConfig } from './config.js';
import type { ControlPlane } from './control-plane.js';

export interface AgentSources {
  /** Every source, the API source last. */
  readonly all: readonly Source[];
  readonly api: ApiSource;
}

/**
 * Constructs the configured sources. `nodeObjects`: whether this node's
 * Node object provides the node addresses (none came from flags or
 * devices). Throws SourceConfigError (e.g. no usable kubeconfig).
 */
export function createSources(cp: ControlPlane, config: AgentConfig, logger: Logger, nodeObjects: boolean): AgentSources {
  const all: Source[] = [];
  if (config.sourceDir !== undefined) {
    const sink = cp.sinkFor('files', { nodeObjects });
    all.push(new FileSource({ sink, dir: config.sourceDir, name: 'files', kinds: sink.kinds as KubeKind[], logger: logger.child({ component: 'source' }) }));
  }
  if (config.k8s || config.kubeconfig !== undefined) {
    const loaded = loadKubeConfig(config.kubeconfig !== undefined ? { kubeconfigPath: config.kubeconfig } : {});
    logger.info({ origin: loaded.origin, from: loaded.from }, 'Kubernetes configuration loaded');
    const sink = cp.sinkFor('k8s', { nodeObjects });
    all.push(new KubernetesSource({ sink, config: loaded.config, name: 'k8s', kinds: sink.kinds as KubeKind[], logger: logger.child({ component: 'source' }) }));
  }
  const api = new ApiSource({ db: cp.db, tables: cp.api, sink: cp.sinkFor('api', { nodeObjects: false }), logger: logger.child({ component: 'source', source: 'api' }) });
  all.push(api);
  return { all, api };
}
