// The CLI's pure formatting: monitor lines (policy drops with identities,
// load-balancing traces with service and backend, interface names), the
// status summary of the agent's document (and the outline for other
// shapes), durations and byte counts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { eventClock, formatEvent, monitorEventOf } from '../../agent/cli/event-format.js';
import { bytesText, durationText, formatStatus, titleOf } from '../../agent/cli/status-format.js';

const events = suite('monitor lines');

events('a policy drop names both identities (reserved ones by name) and the interface', () => {
  const e = monitorEventOf({
    type: 'drop',
    reason: 15,
    reasonName: 'DROP_POLICY_INGRESS',
    hook: 'tc-egress',
    timestampNs: '1000',
    ifindex: 7,
    length: 74,
    proto: 6,
    saddr: '10.202.2.2',
    daddr: '10.202.11.2',
    sport: 41000,
    dport: 8080,
    backendId: 0,
    revNatIndex: 0,
    srcIdentity: 2,
    dstIdentity: 1234,
  });
  assert.is(
    formatEvent(e, new Map([[7, 'to-web1']]), '12:00:00.000'),
    '12:00:00.000  drop   DROP_POLICY_INGRESS  tc-egress to-web1 (ifindex 7)  TCP 10.202.2.2:41000 -> 10.202.11.2:8080  identity 2 (world) -> 1234  len 74',
  );
});

events('a trace shows service and backend; fields the agent left out read as zero; ICMP has no ports', () => {
  const trace = monitorEventOf({ type: 'trace', reasonName: 'FORWARDED', hook: 'tc-ingress', ifindex: 3, proto: 17, saddr: '1.1.1.1', daddr: '2.2.2.2', sport: 5, dport: 53, revNatIndex: 9, backendId: 4, length: 60 });
  assert.is(formatEvent(trace, new Map(), 'T'), 'T  trace  FORWARDED  tc-ingress ifindex 3  UDP 1.1.1.1:5 -> 2.2.2.2:53  service 9  backend 4  len 60');
  const icmp = monitorEventOf({ type: 'drop', reason: 12, hook: 'xdp', proto: 1, saddr: '1.1.1.1', daddr: '2.2.2.2' });
  assert.is(formatEvent(icmp, new Map(), 'T'), 'T  drop   REASON_12  xdp ifindex 0  ICMP 1.1.1.1 -> 2.2.2.2  len 0');
});

events('kernel timestamps become wall-clock times', () => {
  // 1.5 s before "now" on both clocks.
  const now = new Date(2026, 0, 2, 3, 4, 5, 600).getTime();
  assert.is(eventClock('8500000000', 10_000_000_000n, now), '03:04:04.100');
});

events.run();

const status = suite('status summary');

const doc = {
  version: '0.1.0',
  nodeName: 'n1',
  startedAt: '2026-01-01T00:00:00.000Z',
  uptimeSeconds: 3725,
  health: { status: 'degraded', problems: ['source files: a.yaml:3: bad'], synced: true, uptimeSeconds: 3725 },
  nodeAddresses: [{ ip: '10.0.0.1', primary: true, device: 'eth0' }],
  sources: [{ name: 'files', health: 'degraded', synced: true, problems: ['a.yaml:3: bad'], counters: { changesApplied: 12, objectErrors: 1 } }],
  rejectedObjects: [{ source: 'files', object: 'Service default/x', error: 'spec.ports[0].port: must be 1..65535', since: '2026-01-01T00:00:01Z' }],
  reconcilers: [{ name: 'lb-maps', table: 'frontends', health: 'ok', message: 'OK, 3 object(s)', objects: 3, pending: 0, errored: 0, done: 3, errors: [] }],
  policy: { steps: 2, failures: 0 },
  datapath: {
    pinRoot: '/sys/fs/bpf/flagella',
    devices: [
      { device: 'eth0', hook: 'tcx-ingress', linkId: 1, progId: 2, outcome: 'adopted' },
      { device: 'eth0', hook: 'tcx-egress', linkId: 3, progId: 4, outcome: 'adopted' },
    ],
    counters: { FORWARDED: { packets: 10, bytes: 1536 }, DROP_NO_BACKEND: { packets: 0, bytes: 0 } },
    lbMapWrites: { puts: 1, deletes: 0, total: 1, byMap: {} },
    mapEntries: { flg_lb4_services: 4 },
  },
  tables: [
    { name: 'frontends', objects: 3, revision: 9, initialized: true, pendingInitializers: [] },
    { name: 'endpoints', objects: 0, revision: 0, initialized: false, pendingInitializers: ['k8s-pods'] },
  ],
};

status('the agent\'s document as a short summary', () => {
  assert.is(
    formatStatus(doc),
    [
      'Agent:        flagella 0.1.0 on node n1, up 1h2m5s (since 2026-01-01T00:00:00.000Z)',
      'Health:       degraded: source files: a.yaml:3: bad',
      'Node IPs:     10.0.0.1 (eth0, primary)',
      'Sources:',
      '  Name    Health     Synced   Changes   Errors   Problems',
      '  files   degraded   yes      12        1        a.yaml:3: bad',
      'Rejected objects:',
      '  Source   Object              Error',
      '  files    Service default/x   spec.ports[0].port: must be 1..65535',
      'Reconcilers:',
      '  Name      Table       Health   Objects   Pending   Errored   Message',
      '  lb-maps   frontends   ok       3         0         0         OK, 3 object(s)',
      'Datapath:',
      '  Pin root:     /sys/fs/bpf/flagella',
      '  Devices:      eth0 (tcx-ingress, tcx-egress)',
      '  Packets:      FORWARDED 10 (1.5 KiB)',
      '  Map entries:  flg_lb4_services 4',
      'Tables:       2 tables, 3 objects; not initialized: endpoints (waiting for k8s-pods)',
      '',
    ].join('\n'),
  );
});

status('another shape: a generic outline; helpers', () => {
  assert.is(formatStatus({ version: '9', someThing: { innerCount: 2 }, items: [{ a: 1 }, { a: 2 }] }), 'Version:  9\nSome thing:\n  Inner count:  2\nItems:\n  A\n  1\n  2\n');
  assert.is(formatStatus('odd'), '"odd"\n');
  assert.is(titleOf('pendingInitializers'), 'Pending initializers');
  assert.is(durationText(59), '59s');
  assert.is(durationText(90061), '1d1h1m1s');
  assert.is(bytesText(1023), '1023 B');
  assert.is(bytesText(3 * 1024 * 1024), '3.0 MiB');
});

status.run();
