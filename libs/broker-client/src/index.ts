// Producer, Consumer (group member) and Admin client for the broker (docs/architecture.md, "Packages").
export { BrokerConnection, type ConnectionOptions } from './connection/broker-connection';
export { BrokerClientError, toClientError } from './errors';
export { Instrumentation } from './instrumentation';
export { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry';
export { DefaultPartitioner } from './producer/partitioner';
export { BufferBudget, ProducerBufferFullError } from './producer/buffer-budget';
export {
  Producer,
  type AcksLevel,
  type ProducerEvents,
  type ProducerMessage,
  type ProducerOptions,
  type ProducerRecord,
  type RecordMetadata,
} from './producer/producer';
export * from './consumer/assignors';
export {
  Consumer,
  type Batch,
  type CommitMode,
  type ConsumerEvents,
  type ConsumerOptions,
  type EachBatchPayload,
  type EachMessagePayload,
  type RunOptions,
} from './consumer/consumer';
export type { TopicPartition } from './consumer/topic-partition';
export { Admin, type CreateTopicOptions, type ResetTarget } from './admin/admin';
export type { IncomingRecord } from '@hospital/proto';
