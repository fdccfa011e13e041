import type {
  ConnectionOptions,
  ConsumerEvents,
  EachBatchPayload,
  ProducerRecord,
  RecordMetadata,
} from '@hospital/broker-client';

/**
 * How the services reach a broker: our gRPC API (the default), or the Kafka
 * wire protocol, through KafkaJS, to our broker's Kafka listener or to
 * Apache Kafka itself (BROKER_PROTOCOL=kafka, KAFKA_BROKERS=host:port,…).
 */
export type BrokerProtocol = 'grpc' | 'kafka';

/** Where a structured log line goes; a pino Logger fits. */
export interface LogSink {
  error(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

export interface KafkaConnectionOptions {
  protocol: 'kafka';
  /** Bootstrap brokers, host:port each. */
  brokers: string[];
  clientId?: string;
  /** KafkaJS's own log lines, at warn and above unless the sink's level says more. */
  logger?: LogSink;
}

export type GrpcConnectionOptions = { protocol?: 'grpc' } & ConnectionOptions;

export type BackendConnectionOptions = GrpcConnectionOptions | KafkaConnectionOptions;

export const isKafka = (options: BackendConnectionOptions): options is KafkaConnectionOptions =>
  options.protocol === 'kafka';

/** What BrokerClientProxy needs from a producer, whichever protocol carries it. */
export interface EventProducer {
  /** Resolves once the broker has acknowledged every record, with each record's partition and offset, in order. */
  send(record: ProducerRecord): Promise<RecordMetadata[]>;
  /** Waits for what is in flight, then closes the connection. */
  disconnect(): Promise<void>;
  /** The client underneath (our Producer, or a KafkaJS Producer). */
  readonly client: unknown;
}

export interface EventRunOptions {
  partitionsConsumedConcurrently: number;
  eachBatch(payload: EachBatchPayload): Promise<void>;
}

/** What BrokerServer needs from a group member, whichever protocol carries it. */
export interface EventConsumer {
  on<K extends keyof ConsumerEvents>(
    event: K,
    listener: (payload: ConsumerEvents[K]) => void,
  ): () => void;
  subscribe(options: { topics: string[] }): void;
  /** Resolves once the member runs; batches then arrive through eachBatch. */
  run(options: EventRunOptions): Promise<void>;
  /** Finishes the batch in hand, commits, leaves the group, closes the connection. */
  stop(): Promise<void>;
  /** The client underneath (our Consumer, or a KafkaJS Consumer). */
  readonly client: unknown;
}
