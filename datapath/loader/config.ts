// Node-level datapath settings: what the agent configures, its defaults and
// validation, and the encoding into flg_config (struct flg_config, generated).
import type { FlgConfig } from '../maps/layouts.generated.js';
import { DatapathConfigError } from './errors.js';

export type LbAlgorithm = 'random' | 'maglev';

export interface CtTimeouts {
  /** Established TCP flows (default 21600 s, as Cilium). */
  tcpSeconds: number;
  /** TCP flows before their first reply (default 60 s). */
  synSeconds: number;
  /** TCP flows after FIN or RST (default 10 s). */
  finSeconds: number;
  /** UDP and other protocols (default 60 s). */
  otherSeconds: number;
}

export interface DatapathConfig {
  /** Load balancing on (default true); off passes every packet untouched. */
  enabled: boolean;
  /** A trace event per handled packet (default false: drops only). */
  traceEvents: boolean;
  /** Drop traffic to unknown ports of a VIP that has a wildcard entry (default true). */
  wildcardDrop: boolean;
  /** For services whose master entry leaves the algorithm at 0 (default random). */
  defaultLbAlgorithm: LbAlgorithm;
  /** Maglev table size M; one of MAGLEV_TABLE_SIZES (default 16381). */
  maglevTableSize: number;
  /** Seed of the datapath's Maglev flow hash (default 0). */
  hashSeed: number;
  ctTimeouts: CtTimeouts;
}

/** The primes Cilium accepts for M (reference §5). */
export const MAGLEV_TABLE_SIZES: readonly number[] = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071];

export const DEFAULT_CONFIG: Readonly<DatapathConfig> = Object.freeze({
  enabled: true,
  traceEvents: false,
  wildcardDrop: true,
  defaultLbAlgorithm: 'random',
  maglevTableSize: 16381,
  hashSeed: 0,
  ctTimeouts: Object.freeze({ tcpSeconds: 21600, synSeconds: 60, finSeconds: 10, otherSeconds: 60 }),
});

export type DatapathConfigInput = Partial<Omit<DatapathConfig, 'ctTimeouts'>> & { ctTimeouts?: Partial<CtTimeouts> };

// Mirrors FLG_CFG_F_* and FLG_LB_ALG_* in bpf/include/flagella/{config,maps}.h.
const CFG_F_ENABLED = 1 << 0;
const CFG_F_TRACE_EVENTS = 1 << 1;
const CFG_F_WILDCARD_DROP = 1 << 2;
export const LB_ALG_RANDOM = 1;
export const LB_ALG_MAGLEV = 2;

/** Fills defaults and validates. Throws DatapathConfigError naming the bad setting. */
export function resolveConfig(input: DatapathConfigInput = {}): DatapathConfig {
  const config: DatapathConfig = {
    ...DEFAULT_CONFIG,
    ...input,
    ctTimeouts: { ...DEFAULT_CONFIG.ctTimeouts, ...input.ctTimeouts },
  };
  if (!MAGLEV_TABLE_SIZES.includes(config.maglevTableSize)) {
    throw new DatapathConfigError(`maglevTableSize ${config.maglevTableSize} is not one of ${MAGLEV_TABLE_SIZES.join(', ')}`);
  }
  if (config.defaultLbAlgorithm !== 'random' && config.defaultLbAlgorithm !== 'maglev') {
    throw new DatapathConfigError(`defaultLbAlgorithm must be 'random' or 'maglev', not ${String(config.defaultLbAlgorithm)}`);
  }
  if (!Number.isInteger(config.hashSeed) || config.hashSeed < 0 || config.hashSeed > 0xffffffff) {
    throw new DatapathConfigError(`hashSeed must be a u32, not ${config.hashSeed}`);
  }
  for (const [name, value] of Object.entries(config.ctTimeouts)) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new DatapathConfigError(`ctTimeouts.${name} must be a whole number of seconds, not ${value}`);
    }
  }
  return config;
}

export function encodeConfig(config: DatapathConfig): FlgConfig {
  return {
    flags:
      (config.enabled ? CFG_F_ENABLED : 0) |
      (config.traceEvents ? CFG_F_TRACE_EVENTS : 0) |
      (config.wildcardDrop ? CFG_F_WILDCARD_DROP : 0),
    defaultLbAlgorithm: config.defaultLbAlgorithm === 'maglev' ? LB_ALG_MAGLEV : LB_ALG_RANDOM,
    maglevTableSize: config.maglevTableSize,
    hashSeed: config.hashSeed,
    ctTimeoutTcpS: config.ctTimeouts.tcpSeconds,
    ctTimeoutSynS: config.ctTimeouts.synSeconds,
    ctTimeoutFinS: config.ctTimeouts.finSeconds,
    ctTimeoutOtherS: config.ctTimeouts.otherSeconds,
  };
}
