// deploy/: every manifest parses and is listed in the kustomization; the
// ClusterRole grants exactly get/list/watch on the resources the Kubernetes
// source watches (imported from the source, so a kind added there without
// RBAC fails here) and nothing more; the binding and the DaemonSet use the
// ServiceAccount; the DaemonSet runs on the host network with the
// capabilities and host mounts the agent needs, and passes only flags the
// agent command knows, with every $(VAR) defined.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { V1ClusterRole, V1ClusterRoleBinding, V1ConfigMap, V1Container, V1DaemonSet, V1Namespace, V1ServiceAccount } from '@kubernetes/client-node';
import type { Command } from 'commander';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { buildProgram, KIND_INFO, KUBE_KINDS } from '../../agent/index.js';
import type { CliContext } from '../../agent/index.js';

const deployDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy');

interface Doc {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown };
}

function parseFile(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(join(deployDir, file), 'utf8'));
  return docs.map((d) => {
    assert.equal(d.errors, [], `${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as Doc;
  });
}

const kustomization = parseFile('kustomization.yaml')[0] as Doc & { resources: string[]; namespace: string };
const resources = kustomization.resources;
const objects = resources.flatMap((f) => parseFile(f).map((doc) => ({ file: f, doc })));

interface Kinds {
  Namespace: V1Namespace;
  ServiceAccount: V1ServiceAccount;
  ClusterRole: V1ClusterRole;
  ClusterRoleBinding: V1ClusterRoleBinding;
  ConfigMap: V1ConfigMap;
  DaemonSet: V1DaemonSet;
}

/** The one object of a kind, typed (the YAML is the wire shape the types describe). */
function one<K extends keyof Kinds>(kind: K): Kinds[K] {
  const found = objects.filter((o) => o.doc.kind === kind);
  assert.is(found.length, 1, `one ${kind}`);
  return found[0]!.doc as Kinds[K];
}

const files = suite('deploy: manifests');

files('every YAML file parses, is a Kubernetes object with a name, and is listed in kustomization.yaml', () => {
  const yamlFiles = readdirSync(deployDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  assert.equal([...resources].sort(), yamlFiles, 'no manifest left out of the kustomization, none missing');
  assert.is(kustomization.kind, 'Kustomization');
  for (const { file, doc } of objects) {
    assert.type(doc.apiVersion, 'string', file);
    assert.type(doc.kind, 'string', file);
    assert.type(doc.metadata?.name, 'string', file);
  }
  const namespace = one('Namespace').metadata?.name;
  assert.is(kustomization.namespace, namespace);
  for (const { doc } of objects) {
    if (['ServiceAccount', 'ConfigMap', 'DaemonSet'].includes(String(doc.kind))) assert.is(doc.metadata?.namespace, namespace, String(doc.kind));
  }
});

files.run();

const rbac = suite('deploy: RBAC covers exactly what the Kubernetes source watches');

/** "group/resource" for every kind the source watches (core group ""). */
function watchedResources(): string[] {
  return KUBE_KINDS.map((k) => {
    const info = KIND_INFO[k];
    const group = info.apiVersion.includes('/') ? info.apiVersion.split('/')[0]! : '';
    return `${group}/${info.plural}`;
  }).sort();
}

rbac('the ClusterRole grants get, list, watch on each watched resource and nothing else', () => {
  const role = one('ClusterRole');
  const granted: string[] = [];
  for (const rule of role.rules ?? []) {
    assert.equal([...rule.verbs].sort(), ['get', 'list', 'watch'], 'read-only verbs');
    assert.is(rule.resourceNames, undefined);
    assert.is(rule.nonResourceURLs, undefined);
    for (const group of rule.apiGroups ?? []) for (const resource of rule.resources ?? []) granted.push(`${group}/${resource}`);
  }
  assert.ok(!granted.some((g) => g.includes('*')), 'no wildcards');
  assert.equal(granted.sort(), watchedResources());
  assert.is(new Set(granted).size, granted.length, 'each resource once');
});

rbac('the binding gives the ClusterRole to the ServiceAccount the DaemonSet runs as', () => {
  const sa = one('ServiceAccount');
  const binding = one('ClusterRoleBinding');
  assert.equal(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: one('ClusterRole').metadata?.name });
  assert.equal(binding.subjects, [{ kind: 'ServiceAccount', name: sa.metadata?.name, namespace: sa.metadata?.namespace }]);
  assert.is(podSpec().serviceAccountName, sa.metadata?.name);
});

rbac.run();

const ds = suite('deploy: the DaemonSet');

function podSpec(): NonNullable<NonNullable<V1DaemonSet['spec']>['template']['spec']> {
  const spec = one('DaemonSet').spec?.template.spec;
  assert.ok(spec, 'a pod template');
  return spec;
}

function agentContainer(): V1Container & { args: string[] } {
  const agent = podSpec().containers.find((c) => c.name === 'agent');
  assert.ok(agent?.args, 'an agent container with args');
  return agent as V1Container & { args: string[] };
}

function agentCommand(): Command {
  const ctx: CliContext = {
    out: { write: () => {}, closed: false },
    warn: () => {},
    source: () => Promise.reject(new Error('unused')),
    api: () => {
      throw new Error('unused');
    },
    signal: new AbortController().signal,
    settings: { bpfRoot: '/sys/fs/bpf/flagella', interactive: false },
  };
  const program = buildProgram(ctx, { stdout: process.stdout, stderr: process.stderr });
  const agent = program.commands.find((c) => c.name() === 'agent');
  assert.ok(agent, 'the flagella agent command');
  return agent;
}

ds('host network, selector matching its pods, and the agent reading Kubernetes', () => {
  const d = one('DaemonSet');
  assert.is(podSpec().hostNetwork, true);
  assert.is(podSpec().dnsPolicy, 'ClusterFirstWithHostNet');
  const selector = d.spec?.selector.matchLabels ?? {};
  assert.ok(Object.keys(selector).length > 0);
  for (const [k, v] of Object.entries(selector)) assert.is(d.spec?.template.metadata?.labels?.[k], v);
  const c = agentContainer();
  assert.equal(c.command, ['flagella']);
  assert.is(c.args[0], 'agent');
  assert.ok(c.args.includes('--k8s'));
});

ds('only flags the agent command knows, every $(VAR) defined by env or the ConfigMap', () => {
  const c = agentContainer();
  // The agent's own options and the root's (--api-socket), which every command takes.
  const agent = agentCommand();
  const options = [...agent.options, ...(agent.parent?.options ?? [])];
  const known = new Set(options.flatMap((o) => [o.long, o.short].filter((x): x is string => x !== undefined)));
  const flags = c.args.slice(1).map((a) => a.split('=')[0]!);
  for (const f of flags) assert.ok(known.has(f), `${f} is a flag of flagella agent`);
  for (const needed of ['--k8s', '--node-name', '--devices', '--state-dir', '--bpf-root', '--api-socket']) assert.ok(flags.includes(needed), needed);
  const configMap = one('ConfigMap');
  assert.equal(c.envFrom, [{ configMapRef: { name: configMap.metadata?.name } }]);
  const defined = new Set([...(c.env ?? []).map((e) => e.name), ...Object.keys(configMap.data ?? {})]);
  const referenced = c.args.flatMap((a) => [...a.matchAll(/\$\(([A-Z0-9_]+)\)/g)].map((m) => m[1]!));
  assert.ok(referenced.length > 0);
  for (const v of referenced) assert.ok(defined.has(v), `$(${v}) is defined`);
  const nodeName = (c.env ?? []).find((e) => e.name === 'NODE_NAME');
  assert.equal(nodeName?.valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });
});

ds('capabilities instead of privileged for the agent; bpffs mounted by a privileged init container with Bidirectional propagation', () => {
  const c = agentContainer();
  assert.not.ok(c.securityContext?.privileged, 'the agent is not privileged');
  const caps = c.securityContext?.capabilities;
  for (const cap of ['BPF', 'NET_ADMIN', 'SYS_ADMIN']) assert.ok(caps?.add?.includes(cap), cap);
  assert.equal(caps?.drop, ['ALL']);
  const init = podSpec().initContainers?.[0];
  assert.ok(init, 'an init container');
  assert.is(init.securityContext?.privileged, true, 'Bidirectional propagation needs a privileged container');
  assert.equal(init.volumeMounts, [{ name: 'bpf-maps', mountPath: '/sys/fs/bpf', mountPropagation: 'Bidirectional' }]);
});

ds('host mounts: bpffs, cgroup, state and the API socket directory', () => {
  const volumes = new Map((podSpec().volumes ?? []).map((v) => [v.name, v.hostPath?.path]));
  const mounts = new Map((agentContainer().volumeMounts ?? []).map((m) => [m.mountPath, m]));
  const expect: [string, string, string | undefined][] = [
    ['/sys/fs/bpf', '/sys/fs/bpf', 'HostToContainer'],
    ['/sys/fs/cgroup', '/sys/fs/cgroup', 'HostToContainer'],
    ['/var/lib/flagella', '/var/lib/flagella', undefined],
    ['/run/flagella', '/run/flagella', undefined],
  ];
  for (const [mountPath, hostPath, propagation] of expect) {
    const m = mounts.get(mountPath);
    assert.ok(m, `a mount at ${mountPath}`);
    assert.is(volumes.get(m.name), hostPath, `${mountPath} is the host's ${hostPath}`);
    assert.is(m.mountPropagation, propagation, mountPath);
  }
  assert.is(mounts.get('/sys/fs/cgroup')!.readOnly, true);
  const args = agentContainer().args;
  assert.ok(args.includes('--state-dir=/var/lib/flagella'));
  assert.ok(args.includes('--api-socket=/run/flagella/api.sock'));
  assert.ok(args.includes('--bpf-root=/sys/fs/bpf/flagella'));
});

ds.run();
