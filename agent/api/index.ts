// Public face of agent/api: the HTTP API on the unix socket, the API
// source and its durable tables, and the event fan-out.
export { API_POLICIES_TABLE, API_SERVICES_TABLE, newApiTables, type ApiPolicyRow, type ApiServiceRow, type ApiTables } from './api-tables.js';
export { API_KINDS, API_SOURCE_NAME, ApiSource, type ApiSourceOptions, type RowOutcome } from './api-source.js';
export { ApiObjects, parsePolicyBody, parseServiceBody, type ApiObjectsDeps } from './api-objects.js';
export { EventHub, eventToJSON, type EventListener } from './event-hub.js';
export { ApiSocketError, prepareSocketPath, removeSocket } from './api-socket.js';
export { HttpError, MAX_BODY_BYTES } from './http-util.js';
export { serveApi, type ApiBackend, type ApiServer, type ApiServerOptions } from './api-server.js';
