// ELF objects through libbpf: pinned-by-name maps under a unique pin root, reuse of the
// pins on a second load, configuration before load, verifier failures with their log.
import { existsSync, readdirSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BpfError, BpfObject, BpfProgram, libbpfOpenOptsLayout, MapType, type KernelLogger } from '../../datapath/index.js';
import { compileBpf, runHostC, tempPinRoot } from './fixtures/kernel-fixtures.js';

const fixture = compileBpf('kernel-fixture.c');
const bad = compileBpf('kernel-bad.c');

function recordingLogger(): KernelLogger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, debug: (m) => lines.push(`debug ${m}`), info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`) };
}

const load = suite('kernel objects: libbpf load');

load('the koffi bpf_object_open_opts matches the C struct of the installed libbpf', () => {
  const c = Object.fromEntries(runHostC('kernel-libbpf-opts.c').trim().split('\n').map((l) => l.split(' ') as [string, string]).map(([k, v]) => [k, Number(v)]));
  const ours = libbpfOpenOptsLayout();
  assert.is(ours.size, c.size, 'sizeof(struct bpf_object_open_opts)');
  for (const [field, offset] of Object.entries(c)) if (field !== 'size') assert.is(ours.offsets[field], offset, `offsetof(${field})`);
  assert.is(ours.offsets.attach_prog_fd_stub, 32, 'the anonymous __u32 :32 hole');
});

load('loads the fixture: maps pinned by name under the pin root, the others not', () => {
  const pinRoot = tempPinRoot();
  using obj = BpfObject.load(fixture, { pinRoot });
  assert.equal(obj.mapNames.sort(), ['fx_backends', 'fx_counters', 'fx_ct', 'fx_events', 'fx_maglev', 'fx_services', 'fx_source_range']);
  assert.equal(obj.programNames.sort(), ['fx_tc_drop', 'fx_tc_pass', 'fx_xdp_count', 'fx_xdp_swap']);
  assert.equal(readdirSync(pinRoot).sort(), ['fx_backends', 'fx_services', 'fx_source_range']);
  assert.is(obj.mapPinPath('fx_services'), `${pinRoot}/fx_services`);
  assert.is(obj.mapPinPath('fx_ct'), undefined);
  using services = obj.map('fx_services');
  assert.equal([services.type, services.keySize, services.valueSize, services.maxEntries], [MapType.HASH, 12, 12, 1024]);
  using prog = obj.program('fx_xdp_count');
  assert.is(prog.info().typeName, 'XDP');
  assert.is(prog.name, 'fx_xdp_count');
});

load('a second load reuses the pinned maps: same ids, entries kept', () => {
  const pinRoot = tempPinRoot();
  const key = Buffer.alloc(12, 1);
  const value = Buffer.alloc(12, 2);
  let firstId: number;
  {
    using obj = BpfObject.load(fixture, { pinRoot });
    using services = obj.map('fx_services');
    services.update(key, value);
    firstId = services.id;
  }
  const logger = recordingLogger();
  using obj = BpfObject.load(fixture, { pinRoot, logger });
  using services = obj.map('fx_services');
  assert.is(services.id, firstId);
  assert.equal(services.lookup(key), value);
  assert.ok(logger.lines.some((l) => /reused pinned map at '.*fx_services'/.test(l)), logger.lines.join('\n'));
});

load('maps handed out stay usable after the object is closed (own fds)', () => {
  const pinRoot = tempPinRoot();
  const obj = BpfObject.load(fixture, { pinRoot });
  const ct = obj.map('fx_ct');
  obj.close();
  obj.close(); // idempotent
  try {
    ct.update(Buffer.alloc(12, 3), Buffer.alloc(80, 4));
    assert.equal(ct.lookup(Buffer.alloc(12, 3)), Buffer.alloc(80, 4));
  } finally {
    ct.close();
  }
});

load('sizes are configured before load without recompiling, inner maps included', () => {
  const pinRoot = tempPinRoot();
  using obj = BpfObject.load(fixture, {
    pinRoot,
    maps: { fx_ct: { maxEntries: 4096 }, fx_maglev: { maxEntries: 32, inner: { valueSize: 4 * 251 } } },
  });
  using ct = obj.map('fx_ct');
  assert.is(ct.maxEntries, 4096);
  using maglev = obj.map('fx_maglev');
  assert.is(maglev.maxEntries, 32);
  assert.throws(() => obj.configureMap('fx_ct', { maxEntries: 1 }), (e: unknown) => BpfError.is(e, 'EBUSY'));
});

load('configuring an unknown map is ENOENT; a pinned map whose definition changed is refused', () => {
  const pinRoot = tempPinRoot();
  assert.throws(() => BpfObject.open(fixture, { pinRoot, maps: { nope: { maxEntries: 1 } } }), (e: unknown) => BpfError.is(e, 'ENOENT') && /object find map kernel-fixture\/nope/.test((e as Error).message));
  BpfObject.load(fixture, { pinRoot }).close();
  try {
    BpfObject.load(fixture, { pinRoot, maps: { fx_services: { maxEntries: 2048 } }, logger: recordingLogger() });
    assert.unreachable('a changed pinned map must not be reused');
  } catch (err) {
    assert.instance(err, BpfError);
    assert.is((err as BpfError).op, 'object load');
    assert.match((err as BpfError).log ?? '', /fx_services/);
  }
});

load('a program the verifier rejects: BpfError with the verifier log in message and log', () => {
  const pinRoot = tempPinRoot();
  const logger = recordingLogger();
  try {
    BpfObject.load(bad, { pinRoot, logger });
    assert.unreachable('the verifier must reject kernel-bad.c');
  } catch (err) {
    assert.instance(err, BpfError);
    const e = err as BpfError;
    assert.is(e.op, 'object load');
    assert.is(e.object, 'kernel-bad');
    assert.is(e.code, 'EACCES');
    assert.match(e.message, /^object load kernel-bad: EACCES \(rejected by the verifier\)/);
    assert.match(e.message, /invalid access to packet, off=20 size=1/);
    assert.match(e.log ?? '', /BEGIN PROG LOAD LOG/);
    assert.match(e.log ?? '', /R1 offset is outside of the packet/);
  }
  assert.ok(logger.lines.some((l) => l.startsWith('warn ') && /invalid access to packet/.test(l)), 'the verifier log reaches the logger');
});

load('a missing object file is ENOENT from open; nothing is left pinned', () => {
  const pinRoot = tempPinRoot();
  assert.throws(() => BpfObject.load(`${fixture}.missing`, { pinRoot }), (e: unknown) => BpfError.is(e, 'ENOENT') && (e).op === 'object open');
  assert.not.ok(existsSync(pinRoot));
});

load('programs can be pinned and reopened from the pin', () => {
  const pinRoot = tempPinRoot();
  using obj = BpfObject.load(fixture, { pinRoot });
  using prog = obj.program('fx_tc_pass');
  prog.pin(`${pinRoot}/fx_tc_pass`);
  using again = BpfProgram.openPinned(`${pinRoot}/fx_tc_pass`);
  assert.is(again.id, prog.id);
  assert.throws(() => obj.program('nope'), (e: unknown) => BpfError.is(e, 'ENOENT'));
});

load.run();
