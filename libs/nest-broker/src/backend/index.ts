import type { ConsumerOptions, ProducerOptions } from '@hospital/broker-client';
import {
  isKafka,
  type BackendConnectionOptions,
  type EventConsumer,
  type EventProducer,
} from './event-backend';
import { grpcConsumer, grpcProducer } from './grpc-backend';
import { kafkaConsumer } from './kafka/kafka-consumer';
import { kafkaProducer } from './kafka/kafka-producer';

export * from './event-backend';
export { kafkaJsRefusal, kafkajsAssigner } from './kafka/kafkajs-assigner';

/** A producer over the protocol the connection names (gRPC by default). */
export const createEventProducer = (
  connection: BackendConnectionOptions,
  options?: ProducerOptions,
): EventProducer =>
  isKafka(connection) ? kafkaProducer(connection, options) : grpcProducer(connection, options);

/** A group member over the protocol the connection names (gRPC by default). */
export const createEventConsumer = (
  connection: BackendConnectionOptions,
  options: ConsumerOptions,
): EventConsumer =>
  isKafka(connection) ? kafkaConsumer(connection, options) : grpcConsumer(connection, options);
