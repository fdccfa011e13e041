// NestJS transport on top of @hospital/broker-client: @EventPattern handlers and a ClientProxy.
export { BrokerContext } from './broker.context';
export { BrokerBatchContext } from './broker-batch.context';
export { BrokerServer, type BrokerServerOptions, type BrokerServerStatus } from './broker.server';
export { BrokerClientProxy, type BrokerClientOptions, type BrokerEvent } from './broker.client';
export { BrokerModule, BROKER_CLIENT, type BrokerModuleAsyncOptions } from './broker.module';
export {
  createEventConsumer,
  createEventProducer,
  kafkaJsRefusal,
  kafkajsAssigner,
  type BackendConnectionOptions,
  type BrokerProtocol,
  type EventConsumer,
  type EventProducer,
  type KafkaConnectionOptions,
  type LogSink,
} from './backend';
export {
  brokerConnection,
  brokerTarget,
  loadBrokerSettings,
  type BrokerSettings,
} from './broker-settings';
