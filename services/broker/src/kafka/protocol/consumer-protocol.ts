import type { TopicPartitions } from '@hospital/proto';
import { KafkaReader } from './kafka-reader';
import { KafkaWriter } from './kafka-writer';

/**
 * Kafka's embedded consumer protocol (ConsumerProtocolSubscription and
 * ConsumerProtocolAssignment, versions 0–3). The coordinator never needs
 * it: these bytes pass through opaque. The broker reads them only to show
 * what Kafka clients subscribe to and own, as it does for its own clients.
 *
 * Both encodings start differently: Kafka's with its int16 version (a zero
 * byte), the broker's protobuf with a field tag (never zero).
 */
export function isKafkaConsumerProtocol(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0;
}

export interface KafkaSubscription {
  topics: string[];
  ownedPartitions: TopicPartitions[];
}

export function decodeKafkaSubscription(bytes: Buffer): KafkaSubscription {
  const reader = new KafkaReader(bytes);
  const version = reader.int16();
  const topics = reader.array((r) => r.string());
  reader.nullableBytes(); // user data
  const ownedPartitions = version >= 1 && reader.remaining > 0 ? reader.array(topicPartitions) : [];
  return { topics, ownedPartitions };
}

export function decodeKafkaAssignment(bytes: Buffer): TopicPartitions[] {
  const reader = new KafkaReader(bytes);
  reader.int16(); // version
  return reader.array(topicPartitions);
}

function topicPartitions(reader: KafkaReader): TopicPartitions {
  return { topic: reader.string(), partitions: reader.array((r) => r.int32()) };
}

/** A subscription in Kafka's consumer protocol, version 0: the topics, no user data. */
export function encodeKafkaSubscription(topics: readonly string[]): Buffer {
  const out = new KafkaWriter(64);
  out.int16(0).array(topics, (w, topic) => w.string(topic));
  return Buffer.from(out.nullableBytes(null).view());
}

/** An assignment in Kafka's consumer protocol, version 0: partitions per topic, no user data. */
export function encodeKafkaAssignment(assigned: readonly TopicPartitions[]): Buffer {
  const out = new KafkaWriter(64);
  out
    .int16(0)
    .array(assigned, (w, { topic, partitions }) =>
      w.string(topic).array(partitions, (p, partition) => p.int32(partition)),
    );
  return Buffer.from(out.nullableBytes(null).view());
}
