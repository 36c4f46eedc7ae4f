// Where the Kubernetes source finds its cluster: an explicit kubeconfig file
// (--kubeconfig), else $KUBECONFIG (colon-separated files, merged like
// kubectl), else the in-cluster service account (KUBERNETES_SERVICE_HOST/PORT
// plus the token and CA mounted under /var/run/secrets/kubernetes.io/
// serviceaccount). Unlike KubeConfig.loadFromDefault there is no silent
// fallback to http://localhost:8080: with none of these it fails and says so.
import { existsSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { delimiter } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { errorMessage } from './logger.js';
import { SourceConfigError } from './source.js';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConfigOptions {
  /** A kubeconfig file to use; wins over everything else. */
  readonly kubeconfigPath?: string;
  /** Where KUBECONFIG and KUBERNETES_SERVICE_HOST/PORT are read. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Prepended to the service-account mount path (tests put a fake mount in a
   * temporary directory). Default '' (the real mount).
   */
  readonly inClusterPathPrefix?: string;
}

export type KubeConfigOrigin = 'kubeconfig' | 'KUBECONFIG' | 'in-cluster';

export interface LoadedKubeConfig {
  readonly config: KubeConfig;
  readonly origin: KubeConfigOrigin;
  /** The file(s) read, or the in-cluster server URL: for logs. */
  readonly from: string;
}

/**
 * Loads the cluster configuration. Throws SourceConfigError naming the file
 * and the problem when a kubeconfig cannot be read or has no current
 * cluster, or when none of the three ways applies.
 */
export function loadKubeConfig(opts: KubeConfigOptions = {}): LoadedKubeConfig {
  const env = opts.env ?? process.env;
  if (opts.kubeconfigPath !== undefined && opts.kubeconfigPath !== '') {
    return { config: fromFiles([opts.kubeconfigPath]), origin: 'kubeconfig', from: opts.kubeconfigPath };
  }
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  if (listed.length > 0) return { config: fromFiles(listed), origin: 'KUBECONFIG', from: listed.join(delimiter) };
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host !== undefined && host !== '' && port !== undefined && port !== '') {
    return inCluster(host, port, opts.inClusterPathPrefix ?? '');
  }
  throw new SourceConfigError(
    'no Kubernetes configuration: pass a kubeconfig file, set KUBECONFIG, or run in a pod ' +
      '(KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set)',
  );
}

function fromFiles(files: readonly string[]): KubeConfig {
  const config = new KubeConfig();
  files.forEach((file, i) => {
    const kc = i === 0 ? config : new KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw new SourceConfigError(`kubeconfig ${file}: ${errorMessage(err)}`);
    }
    if (i > 0) mergeFirstWins(config, kc);
  });
  const cluster = config.getCurrentCluster();
  if (cluster === null) {
    throw new SourceConfigError(`kubeconfig ${files.join(delimiter)}: no current context/cluster`);
  }
  if (cluster.server.startsWith('http://') && cluster.skipTLSVerify !== true) {
    throw new SourceConfigError(
      `kubeconfig ${files.join(delimiter)}: cluster "${cluster.name}" uses plain http://, which the client refuses unless insecure-skip-tls-verify is set`,
    );
  }
  return config;
}

/** kubectl's merge rule: the first file to define a cluster, user or context wins (the client's mergeConfig throws instead). */
function mergeFirstWins(into: KubeConfig, from: KubeConfig): void {
  for (const c of from.getClusters()) if (into.getCluster(c.name) === null) into.addCluster(c);
  for (const u of from.getUsers()) if (into.getUser(u.name) === null) into.addUser(u);
  for (const x of from.getContexts()) if (into.getContextObject(x.name) === null) into.addContext(x);
  if (into.getCurrentContext() === undefined || into.getCurrentContext() === '') {
    into.setCurrentContext(from.getCurrentContext());
  }
}

function inCluster(host: string, port: string, prefix: string): LoadedKubeConfig {
  const tokenFile = `${prefix}${SERVICE_ACCOUNT_DIR}/token`;
  if (!existsSync(tokenFile)) {
    throw new SourceConfigError(`in-cluster configuration: service-account token ${tokenFile} is missing`);
  }
  const config = new KubeConfig();
  config.loadFromCluster(prefix);
  // loadFromCluster reads process.env itself and guesses http for some
  // ports; the API server in a pod is always https at the given address.
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  config.clusters = config.clusters.map((c) => ({ ...c, server }));
  return { config, origin: 'in-cluster', from: server };
}
