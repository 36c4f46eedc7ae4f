// The datapath loader as its own process, for end-to-end tests: loads (or
// re-loads) the datapath under a pin root, writes services, attaches tcx to
// devices, prints one line "ready <json>" and then waits until stdin closes
// or SIGTERM, and exits WITHOUT detaching: the pinned links and maps keep
// forwarding after it is gone, as they must when the agent restarts.
//
//   node --import tsx run-datapath.ts <pinRoot> <json spec>
//   spec: { devices: [{ifname, netns}], services: ServiceSpec[], config? }
import { loadDatapath, type DatapathConfigInput, type DeviceRef } from '../../datapath/index.js';
import { putService, type ServiceSpec } from './datapath-fixture.js';

interface Spec {
  devices: DeviceRef[];
  services: ServiceSpec[];
  config?: DatapathConfigInput;
}

const [pinRoot, specJson] = process.argv.slice(2);
if (!pinRoot || !specJson) {
  process.stderr.write('usage: run-datapath.ts <pinRoot> <json spec>\n');
  process.exit(2);
}
const spec = JSON.parse(specJson) as Spec;
const dp = loadDatapath({ pinRoot, ...(spec.config ? { config: spec.config } : {}) });
for (const svc of spec.services) putService(dp, svc);
const links = dp.attach(spec.devices, { mode: 'tcx' });
process.stdout.write(`ready ${JSON.stringify(links.map((l) => ({ pin: l.pinPath, outcome: l.outcome, progId: l.progId })))}\n`);

function exit(): void {
  dp.close();
  process.exit(0);
}
process.on('SIGTERM', exit);
process.stdin.on('end', exit);
process.stdin.resume();
