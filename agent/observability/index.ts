// Public face of agent/observability: pino logging, the health and metrics
// HTTP endpoints, the agent's Prometheus metrics and the progress bar.
export {
  LOG_FORMATS,
  LOG_LEVELS,
  createLogger,
  formatTextLine,
  isLogLevel,
  kernelLogger,
  resolveLogFormat,
  type LogFormat,
  type LogLevel,
  type Logger,
  type LoggerOptions,
} from './logger.js';
export {
  ListenAddressError,
  checkLoopback,
  formatAddress,
  isLoopback,
  parseListenAddress,
  serveHealth,
  serveMetrics,
  type HealthReport,
  type ListenAddress,
  type ServedEndpoint,
} from './http-endpoints.js';
export { newRegistry, registerAgentMetrics, type AgentMetrics, type AgentMetricsInputs, type ReasonCounter } from './metrics.js';
export { startProgress, type ProgressBarHandle, type ProgressOptions, type ProgressReading } from './progress.js';
