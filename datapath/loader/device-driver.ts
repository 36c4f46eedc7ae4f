// Which driver runs a network device, through the SIOCETHTOOL ioctl
// (ETHTOOL_GDRVINFO) on a socket opened inside the device's namespace: the
// loader refuses native XDP on veths. sysfs cannot answer for devices in
// other namespaces (it shows the namespace that mounted it), and shelling out
// to ethtool is not allowed on product paths. The kernel layer binds no
// socket()/ioctl(), so this file binds the two it needs.
import koffi from 'koffi';
import { withNetns } from '../kernel/index.js';

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SIOCETHTOOL = 0x8946;
const ETHTOOL_GDRVINFO = 0x00000003;
const IFNAMSIZ = 16;
const IFREQ_SIZE = 40;
const DRVINFO_SIZE = 196; // struct ethtool_drvinfo
const DRIVER_OFFSET = 4;
const DRIVER_LEN = 32;

interface SockLib {
  socket: (domain: number, type: number, protocol: number) => number;
  ioctl: (fd: number, request: number, arg: Buffer) => number;
  close: (fd: number) => number;
}

let bound: SockLib | undefined;

function lib(): SockLib {
  if (bound) return bound;
  const libc = koffi.load('libc.so.6');
  bound = {
    socket: libc.func('int socket(int domain, int type, int protocol)') as SockLib['socket'],
    // ioctl is variadic; a fixed third pointer argument is ABI-identical on x86-64.
    ioctl: libc.func('int ioctl(int fd, unsigned long request, void *arg)') as SockLib['ioctl'],
    close: libc.func('int close(int fd)') as SockLib['close'],
  };
  return bound;
}

/**
 * The driver name of `ifname` ("veth", "virtio_net", ...) in `netns` (or the
 * current namespace), or undefined when the device has no ethtool driver
 * info or does not exist. Never throws for a missing device.
 */
export function deviceDriver(ifname: string, netns?: string): string | undefined {
  if (ifname.length >= IFNAMSIZ) return undefined;
  return withNetns(netns, () => {
    const l = lib();
    const fd = l.socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return undefined;
    try {
      const drvinfo = Buffer.alloc(DRVINFO_SIZE);
      drvinfo.writeUInt32LE(ETHTOOL_GDRVINFO, 0);
      const ifreq = Buffer.alloc(IFREQ_SIZE);
      ifreq.write(ifname, 0, 'latin1');
      ifreq.writeBigUInt64LE(BigInt(Number(koffi.address(drvinfo))), IFNAMSIZ);
      if (l.ioctl(fd, SIOCETHTOOL, ifreq) < 0) return undefined;
      const raw = drvinfo.subarray(DRIVER_OFFSET, DRIVER_OFFSET + DRIVER_LEN);
      const end = raw.indexOf(0);
      return raw.toString('latin1', 0, end < 0 ? DRIVER_LEN : end);
    } finally {
      l.close(fd);
    }
  });
}
