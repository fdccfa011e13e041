// How a service process starts and stops (docs/architecture.md, "Packages").
export {
  handleBatchOrDeadLetter,
  type BatchOutcome,
  type DeadLetterOptions,
  type RecordBatch,
  type RecordPosition,
  type WriteResult,
} from './dead-letter';
export {
  startConsumerService,
  DATABASE,
  DEAD_LETTERS,
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  type ConsumerServiceOptions,
  type RunningConsumerService,
} from './consumer-service';
export { ConsumerMetrics } from './consumer-metrics';
export { loadConsumerServiceConfig, type ConsumerServiceConfig } from './consumer-service-config';
export { runService } from './run-service';
