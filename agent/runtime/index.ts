// Public face of agent/runtime: the agent's configuration, lifecycle and
// the `flagella agent` process.
export {
  agentConfig,
  ConfigValueError,
  DEFAULT_API_SOCKET,
  DEFAULT_BPF_ROOT,
  DEFAULT_HEALTH_ADDR,
  DEFAULT_MAGLEV_TABLE_SIZE,
  DEFAULT_METRICS_ADDR,
  DEFAULT_ONCE_TIMEOUT_MS,
  DEFAULT_STATE_DIR,
  parseAddressFlag,
  parseChoice,
  parseDevices,
  parseMaglevTableSize,
  parseNodeAddresses,
  parseNodeName,
  parsePath,
  parseSeconds,
  type AgentConfig,
  type AttachModeName,
  type LBAlgorithmName,
  type XdpModeName,
} from './config.js';
export { Agent, STORE_FILE, type AgentOptions } from './agent.js';
export { agentHealth, agentProblems, agentStatus, type AgentStatus, type ReconcilerReport, type SourceReport } from './agent-status.js';
export { AgentEnvironmentError, checkAgentEnvironment } from './environment.js';
export { converge, type ConvergenceResult } from './converge.js';
export { formatSummary } from './summary.js';
export { deviceNodeAddresses, explicitNodeAddresses } from './node-addresses.js';
export { InvalidPolicyError, PolicySink } from './policy-sink.js';
export { RejectionTracker, type RejectedObject } from './rejections.js';
export { runAgent, type RunAgentOptions, type RunResult } from './run.js';
