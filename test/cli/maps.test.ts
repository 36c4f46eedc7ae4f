// The map-reading commands (lb dump, policy dump, ct list, monitor --direct)
// against maps filled by the real datapath code under a unique pin root:
// services written the control plane's way, conntrack entries made by
// running packets through the real tc program, policy maps, endpoints and
// the ipcache written through datapath/policy, and a drop event from the
// ring buffer. No agent runs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { ipcacheKey, ipcacheValue, policyMapEntries, syncEndpointPolicyMap } from '../../datapath/index.js';
import { openTestDatapath, putService, runTc } from '../support/datapath-fixture.js';
import { buildPacket } from '../support/packet.js';
import { flagella, noStack, pipeline, Running, BIN } from './cli-support.js';

const VIP = '10.96.7.7';
const EMPTY_VIP = '10.96.7.8';
const ENDPOINT_IFINDEX = 4242;

const dp = openTestDatapath();
const pinRoot = dp.pinRoot;
const env = { FLAGELLA_BPF_ROOT: pinRoot };

function fill(): void {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 7, backends: [{ id: 11, addr: '10.0.1.2', port: 8080 }, { id: 12, addr: '10.0.2.2', port: 8080 }] });
  putService(dp, { vip: EMPTY_VIP, port: 80, proto: 'tcp', id: 8, backends: [] });
  for (const [client, sport] of [['10.0.0.5', 40001], ['10.0.0.6', 40002]] as const) {
    const r = runTc(dp, buildPacket({ saddr: client, daddr: VIP, proto: 'tcp', sport, dport: 80 }));
    assert.is(r.verdict, 'pass');
  }
  dp.maps.endpoints.put(ENDPOINT_IFINDEX, { endpointId: ENDPOINT_IFINDEX, secIdentity: 1234, flags: 1 });
  syncEndpointPolicyMap(
    dp.maps.policy,
    ENDPOINT_IFINDEX,
    policyMapEntries([
      { direction: 'ingress', peerIdentity: 1235, protocol: 6, portLo: 8080, portHi: 8080 },
      { direction: 'ingress', peerIdentity: 2, protocol: 0, portLo: 0, portHi: 65535, deny: true },
      { direction: 'egress', peerIdentity: 0, protocol: 17, portLo: 8000, portHi: 8031, precedence: 5 },
    ]),
  );
  dp.maps.ipcache.put(ipcacheKey('10.0.0.5/32'), ipcacheValue(1235));
  dp.maps.ipcache.put(ipcacheKey('10.0.1.2/32'), ipcacheValue(1234));
  dp.maps.ipcache.put(ipcacheKey('0.0.0.0/0'), ipcacheValue(2));
  dp.maps.policyState.put(0, { enforcingEndpoints: 1 });
}

const maps = suite('map-reading commands on real maps');

maps.before(() => fill());
maps.after(() => dp.dispose());

maps('lb dump reads the services through --bpf-root (and $FLAGELLA_BPF_ROOT)', () => {
  const r = flagella(['lb', 'dump', '--bpf-root', pinRoot]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(r.stdout.includes('SVC: ID=7 ADDR=10.96.7.7:80/TCP SLOT=1 BEID=11'), r.stdout);
  assert.ok(r.stdout.includes('BE: ID=12 ADDR=10.0.2.2:8080/TCP STATE=active'), r.stdout);
  assert.is(flagella(['lb', 'dump'], env).stdout, r.stdout);
});

maps('policy dump: endpoints with decoded entries, the ipcache, in text, JSON and YAML', () => {
  const r = flagella(['policy', 'dump'], env);
  assert.is(r.code, 0, r.stderr);
  assert.is(
    r.stdout,
    [
      'Policy enforcement: on (1 endpoint enforcing)',
      '',
      'Endpoint 4242 on ifindex 4242, identity 1234, enforces ingress',
      '  Direction   Identity    Protocol   Ports       Verdict   Precedence',
      '  egress      any         UDP        8000-8031   allow     5',
      '  ingress     2 (world)   any        any         deny      4294967295',
      '  ingress     1235        TCP        8080        allow     0',
      '',
      'IPCache',
      '  Prefix        Identity',
      '  0.0.0.0/0     2 (world)',
      '  10.0.0.5/32   1235',
      '  10.0.1.2/32   1234',
      '',
    ].join('\n'),
  );
  const json = JSON.parse(flagella(['policy', 'dump', '-o', 'json'], env).stdout) as {
    enforcingEndpoints: number;
    endpoints: { ifindex: number; entries: { direction: string; identity: number; ports: string; verdict: string }[] }[];
    ipcache: { prefix: string; identity: number }[];
  };
  assert.is(json.enforcingEndpoints, 1);
  assert.equal(
    json.endpoints[0]!.entries.map((e) => [e.direction, e.identity, e.ports, e.verdict]),
    [
      ['egress', 0, '8000-8031', 'allow'],
      ['ingress', 2, 'any', 'deny'],
      ['ingress', 1235, '8080', 'allow'],
    ],
  );
  assert.is(json.ipcache.length, 3);
  const yaml = parseAllDocuments(flagella(['policy', 'dump', '-o', 'yaml'], env).stdout).map((d) => d.toJS() as { endpoints: unknown[] });
  assert.is(yaml.length, 1);
  assert.is(yaml[0]!.endpoints.length, 1);
});

maps('ct list: the entries the tc program made for two connections, decoded; --kind, --columns, JSON', () => {
  const r = flagella(['ct', 'list', '--columns', 'kind,protocol,source,destination,backend,service'], env);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^Kind\s+Protocol\s+Source\s+Destination\s+Backend\s+Service$/);
  const rows = lines.slice(1).map((l) => l.split(/\s+/));
  const services = rows.filter((c) => c[0] === 'service');
  assert.equal(
    services.map((c) => c.slice(0, 4)),
    [
      ['service', 'TCP', '10.0.0.5:40001', '10.96.7.7:80'],
      ['service', 'TCP', '10.0.0.6:40002', '10.96.7.7:80'],
    ],
  );
  for (const c of services) {
    assert.ok(['11', '12'].includes(c[4]!), `a backend of the service: ${c.join(' ')}`);
    assert.is(c[5], '7');
  }
  const replies = rows.filter((c) => c[0] === 'reply');
  assert.is(replies.length, 2, r.stdout);
  for (const c of replies) assert.match(c[3]!, /^10\.0\.0\.[56]:4000[12]$/, 'a reply goes back to the client');
  const json = JSON.parse(flagella(['ct', 'list', '-o', 'json', '--kind', 'service'], env).stdout) as { kind: string; expiresIn: number; age: number; flags: string[] }[];
  assert.is(json.length, 2);
  for (const e of json) {
    assert.is(e.kind, 'service');
    assert.ok(e.expiresIn > 0 && e.age >= 0, JSON.stringify(e));
  }
});

maps('missing pins: exit 3 naming the pin root; a bad option value: exit 2', () => {
  for (const args of [['policy', 'dump'], ['ct', 'list'], ['lb', 'dump'], ['monitor', '--direct']]) {
    const r = flagella([...args, '--bpf-root', `${pinRoot}-missing`]);
    assert.is(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(`${pinRoot}-missing`), r.stderr);
    assert.match(r.stderr, /--bpf-root/);
    noStack(r);
  }
  const bad = flagella(['ct', 'list', '--kind', 'sideways'], env);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /sideways/);
  const mixed = flagella(['ct', 'list', '-o', 'json', '--columns', 'kind'], env);
  assert.is(mixed.code, 2);
});

maps('ct list | head -1 ends cleanly', () => {
  const r = pipeline(`node ${BIN} ct list --bpf-root ${pinRoot} | head -1`);
  assert.is(r.status, 0);
  assert.match(r.out, /^Kind\s+Protocol/);
});

maps('monitor --direct shows a drop made after it started (not the backlog), then stops after --count', async () => {
  // Backlog: a drop before the monitor starts must not be shown.
  assert.is(runTc(dp, buildPacket({ saddr: '10.0.0.9', daddr: EMPTY_VIP, proto: 'tcp', sport: 39999, dport: 80 })).verdict, 'drop');
  const mon = new Running(['monitor', '--direct', '-n', '1', '--bpf-root', pinRoot]);
  try {
    await mon.waitFor(/Listening for datapath events/, 'stderr');
    assert.is(runTc(dp, buildPacket({ saddr: '10.0.0.7', daddr: EMPTY_VIP, proto: 'tcp', sport: 41234, dport: 80 })).verdict, 'drop');
    assert.is(await mon.exit(), 0, mon.stderr);
    const lines = mon.stdout.trimEnd().split('\n');
    assert.is(lines.length, 1, mon.stdout);
    assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} {2}drop {3}DROP_NO_BACKEND {2}tc-ingress ifindex \d+ {2}TCP 10\.0\.0\.7:41234 -> 10\.96\.7\.8:80 {2}service 8 {2}len \d+$/);
  } finally {
    mon.kill();
  }
  const json = new Running(['monitor', '--direct', '-n', '1', '-o', 'json', '--type', 'drop', '--bpf-root', pinRoot]);
  try {
    await json.waitFor(/Listening/, 'stderr');
    runTc(dp, buildPacket({ saddr: '10.0.0.8', daddr: EMPTY_VIP, proto: 'tcp', sport: 41235, dport: 80 }));
    assert.is(await json.exit(), 0, json.stderr);
    const event = JSON.parse(json.stdout) as { type: string; reasonName: string; saddr: string; sport: number };
    assert.equal([event.type, event.reasonName, event.saddr, event.sport], ['drop', 'DROP_NO_BACKEND', '10.0.0.8', 41235]);
  } finally {
    json.kill();
  }
});

maps('monitor --direct: Ctrl-C ends it with status 0', async () => {
  const mon = new Running(['monitor', '--direct', '--bpf-root', pinRoot]);
  try {
    await mon.waitFor(/Listening/, 'stderr');
    mon.child.kill('SIGINT');
    assert.is(await mon.exit(), 0, mon.stderr);
  } finally {
    mon.kill();
  }
});

maps.run();
