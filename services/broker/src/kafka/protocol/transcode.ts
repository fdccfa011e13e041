import { crc32c, RecordBatch, RecordSet, type LogRecord } from '@hospital/proto';
import type { KafkaBatch } from './record-batch-v2';
import { writeKafkaBatch } from './record-batch-v2';
import type { KafkaWriter } from './kafka-writer';

/** A view of decoded bytes, not a copy: fetch answers are transcoded per record. */
const view = (bytes: Uint8Array): Buffer =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * The Kafka edge keeps one storage format: a Kafka v2 batch is transcoded
 * into the broker's RecordBatch on produce, and back on fetch. Keys,
 * values, headers (in order, repeated keys kept) and create times pass
 * through; a null value is stored as an empty one, which is what the cleaner
 * reads as a tombstone, and is served as null on compacted topics.
 */
export function toStoredBatch(batch: KafkaBatch, producerId: string): Buffer {
  const baseTimestampMs = batch.records[0].timestamp;
  let maxTimestampMs = baseTimestampMs;
  const records: LogRecord[] = batch.records.map((record, index) => {
    if (record.timestamp > maxTimestampMs) maxTimestampMs = record.timestamp;
    return {
      offsetDelta: index,
      timestampDelta: record.timestamp - baseTimestampMs,
      key: record.key ?? undefined,
      value: record.value ?? EMPTY,
      headers: record.headers.map((header) => ({ key: header.key, value: header.value ?? EMPTY })),
    };
  });
  const encoded = RecordSet.encode({ records }).finish();
  return Buffer.from(
    RecordBatch.encode({
      baseOffset: 0,
      recordCount: records.length,
      baseTimestampMs,
      maxTimestampMs,
      crc: crc32c(encoded),
      logAppendTimeMs: 0,
      producerId,
      records: view(encoded),
    }).finish(),
  );
}

const EMPTY = Buffer.alloc(0);

/** A record's key and value as a Kafka client should read them (null: absent). */
export interface KafkaKeyValue {
  key: Buffer | null;
  value: Buffer | null;
}

/** Rewrites what a topic's records carry for Kafka readers (see offsets-topic-format.ts). */
export type RecordRewrite = (stored: KafkaKeyValue) => KafkaKeyValue;

/**
 * Writes a stored batch as one Kafka v2 batch, offsets, offset span and
 * create times as stored: a batch the cleaner emptied is served empty, so a
 * consumer skips the offsets it held.
 */
export function writeStoredBatch(
  out: KafkaWriter,
  stored: Buffer,
  compacted: boolean,
  rewrite?: RecordRewrite,
): void {
  const batch = RecordBatch.decode(stored);
  const records = RecordSet.decode(batch.records).records.map((record) => {
    const stored: KafkaKeyValue = {
      key: record.key === undefined ? null : view(record.key),
      value: compacted && record.value.length === 0 ? null : view(record.value),
    };
    return {
      offsetDelta: record.offsetDelta,
      timestamp: batch.baseTimestampMs + record.timestampDelta,
      ...(rewrite ? rewrite(stored) : stored),
      headers: record.headers.map((header) => ({
        key: header.key,
        value: Buffer.from(header.value),
      })),
    };
  });
  writeKafkaBatch(
    out,
    {
      baseOffset: batch.baseOffset,
      lastOffsetDelta: Math.max(0, batch.recordCount - 1),
      baseTimestamp: batch.baseTimestampMs,
      maxTimestamp: batch.maxTimestampMs,
    },
    records,
  );
}
