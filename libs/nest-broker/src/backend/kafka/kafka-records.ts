import type { IncomingRecord, ProducerMessage, RecordMetadata } from '@hospital/broker-client';
import type { KafkaMessage, Message, RecordMetadata as KafkaRecordMetadata } from 'kafkajs';

const bytes = (data: Uint8Array | string): Buffer | string =>
  typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);

/** Our outgoing record as a KafkaJS message: the same key, value, headers, timestamp and partition. */
export function toKafkaMessage(message: ProducerMessage): Message {
  const headers: { [key: string]: Buffer | string } = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = bytes(value);
  return {
    key: message.key === undefined || message.key === null ? null : bytes(message.key),
    value: message.value === null ? null : bytes(message.value),
    headers,
    partition: message.partition,
    timestamp: message.timestamp === undefined ? undefined : String(message.timestamp),
  };
}

const asBuffer = (value: Buffer | string): Buffer =>
  typeof value === 'string' ? Buffer.from(value) : value;

/**
 * A KafkaJS message as our consumers see records. A header repeated in
 * Kafka keeps its last value, as our records hold one value per name.
 */
export function toIncomingRecord(message: KafkaMessage): IncomingRecord {
  const headers: { [key: string]: Buffer } = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (value === undefined) continue;
    headers[name] = asBuffer(Array.isArray(value) ? value[value.length - 1] : value);
  }
  return {
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    key: message.key,
    value: message.value ?? Buffer.alloc(0),
    headers,
  };
}

/**
 * Each record's partition and offset, in the order sent. Kafka acknowledges
 * a partition's records with the base offset of their batch, and a partition's
 * records go in the order sent, so the n-th record of a partition is base + n.
 */
export function perRecordMetadata(
  topic: string,
  partitions: readonly number[],
  acknowledged: readonly KafkaRecordMetadata[],
): RecordMetadata[] {
  const base = new Map<number, number>();
  for (const ack of acknowledged)
    if (ack.topicName === topic && ack.baseOffset !== undefined)
      base.set(ack.partition, Number(ack.baseOffset));
  const next = new Map<number, number>();
  return partitions.map((partition) => {
    const start = base.get(partition);
    if (start === undefined) return { topic, partition, offset: -1 };
    const index = next.get(partition) ?? 0;
    next.set(partition, index + 1);
    return { topic, partition, offset: start + index };
  });
}
