export {
  startPostgres,
  choosePostgresMode,
  isContainerRuntimeReachable,
  DEFAULT_POSTGRES_IMAGE,
  type PostgresMode,
  type StartedPostgres,
  type StartPostgresOptions,
} from './postgres/start-postgres';
export {
  startEmbeddedPostgres,
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
} from './postgres/embedded';
export { findFreePort, findFreePortBlock } from './postgres/free-port';
export { queryRows } from './postgres/query-rows';
export {
  startBroker,
  BROKER_MAIN,
  type BrokerProcess,
  type StartBrokerOptions,
} from './broker/start-broker';
export {
  DIE_WITH_PARENT,
  startNodeProcess,
  logEntry,
  logMessage,
  type LogEntry,
  type NodeProcess,
  type StartNodeProcessOptions,
} from './process/node-process';
export { startService, SERVICE_MAINS, type ServiceName } from './process/start-service';
export { startProgram } from './process/start-program';
