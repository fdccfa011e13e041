// NestJS transport on top of @hospital/broker-client: @EventPattern handlers and a ClientProxy.
export { BrokerContext } from './broker.context';
export { BrokerBatchContext } from './broker-batch.context';
export { BrokerServer, type BrokerServerOptions, type BrokerServerStatus } from './broker.server';
export { BrokerClientProxy, type BrokerClientOptions, type BrokerEvent } from './broker.client';
export { BrokerModule, BROKER_CLIENT, type BrokerModuleAsyncOptions } from './broker.module';
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
