import type { TopicPartitions } from '@hospital/proto';
import { KafkaReader } from './kafka-reader';

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
