// The demo's network: one namespace per pod (two clients, three web
// backends), each joined by a veth pair to a host namespace that routes
// between them. The agent runs in the host namespace with the datapath on
// the five host-side interfaces: service load balancing on the clients'
// (packets leaving a client), policy on the backends' (packets delivered to
// them). Addresses and interface names match examples/demo/pods.yaml.
import type { NetTopology} from '../../test/support/netns.js';
import { type Netns } from '../../test/support/netns.js';

export interface DemoPod {
  readonly name: string;
  readonly ns: Netns;
  readonly ip: string;
  /** The host-side interface (the pod's flagella.io/host-interface). */
  readonly hostIf: string;
}

export interface DemoNetwork {
  readonly host: Netns;
  readonly clients: { readonly shop: DemoPod; readonly scraper: DemoPod };
  readonly backends: readonly DemoPod[];
  /** Every host-side interface: the agent's --devices. */
  readonly devices: readonly string[];
}

const PODS = [
  { name: 'shop', subnet: 1, hostIf: 'to-shop' },
  { name: 'scraper', subnet: 2, hostIf: 'to-scraper' },
  { name: 'web-1', subnet: 11, hostIf: 'to-web1' },
  { name: 'web-2', subnet: 12, hostIf: 'to-web2' },
  { name: 'web-3', subnet: 13, hostIf: 'to-web3' },
] as const;

/** Creates the namespaces and links in `topo` (its destroy() removes them all). Throws CommandError naming the failed command. */
export function createDemoNetwork(topo: NetTopology): DemoNetwork {
  const host = topo.namespace('host');
  topo.enableForwarding(host);
  const pods = PODS.map((p): DemoPod => {
    const ns = topo.namespace(p.name);
    const gateway = `10.202.${p.subnet}.1`;
    const ip = `10.202.${p.subnet}.2`;
    topo.veth({ ns: host, name: p.hostIf, address: `${gateway}/24` }, { ns, name: 'eth0', address: `${ip}/24` });
    topo.route(ns, 'default', gateway);
    return { name: p.name, ns, ip, hostIf: p.hostIf };
  });
  const [shop, scraper, ...backends] = pods;
  return { host, clients: { shop: shop!, scraper: scraper! }, backends, devices: pods.map((p) => p.hostIf) };
}

/** The picture the demo prints. */
export function describeDemoNetwork(net: DemoNetwork): string[] {
  const pods = [net.clients.shop, net.clients.scraper, ...net.backends];
  const marks = ['┐', '┤', '┼', '┤', '┘'];
  return pods.map((p, i) => {
    const left = `${p.name.padEnd(8)} ${p.ip.padEnd(12)} ─${marks[i]}`;
    return i === 2 ? `${left}─ host namespace, routing; the datapath on its 5 veths (${net.devices.join(', ')})` : left;
  });
}
