import type { IncomingRecord } from '@hospital/broker-client';
import type { Logger } from 'pino';
import type { BrokerClientProxy } from '@hospital/nest-broker';
import type { ConsumerMetrics } from './consumer-metrics';

/** Where a batch came from and the offset to store with whatever it produced. */
export interface RecordPosition {
  topic: string;
  partition: number;
  /** The last record's offset + 1: where this partition resumes after the batch. */
  nextOffset: number;
}

export interface WriteResult {
  /** Events that changed rows (new checkouts or newer versions). */
  written: number;
  /** Events left unchanged: redeliveries and versions older than what is stored. */
  skipped: number;
}

/** One partition's records fetched together, in offset order. */
export interface RecordBatch {
  topic: string;
  partition: number;
  records: IncomingRecord[];
  /** The partition's log end when fetched; the lag after this batch is highWatermark - nextOffset. */
  highWatermark: number;
}

export interface DeadLetterOptions<Event> {
  deadLetters: BrokerClientProxy;
  deadLetterTopic: string;
  groupId: string;
  /** Decodes a record's value; a throw means the record is undecodable. */
  decode(value: Buffer): Event;
  /** Why the event cannot be handled; undefined when it can. */
  reject(event: Event): string | undefined;
  /**
   * Writes the good events (possibly none) and `position.nextOffset` in one
   * transaction, so a dead-lettered record is not read again either.
   */
  write(events: Event[], position: RecordPosition): Promise<WriteResult>;
  /** Counted when given: consumed, written, skipped, dead-lettered, lag. */
  metrics?: ConsumerMetrics;
  logger?: Logger;
}

export interface BatchOutcome extends WriteResult {
  /** The reason for each record sent to the dead-letter topic, by offset. */
  deadLettered: { offset: number; reason: string }[];
}

/**
 * The consumer services' handling of a batch: decode and check every record;
 * publish the bad ones unchanged to the dead-letter topic with the reason in a
 * header (`dlq-reason`, `dlq-source`, `dlq-group`); then write the good ones
 * and the batch's next offset in one transaction. The group keeps going.
 * Dead letters go out before the write, so a crash in between re-sends them
 * (at least once) rather than losing them.
 */
export async function handleBatchOrDeadLetter<Event>(
  batch: RecordBatch,
  options: DeadLetterOptions<Event>,
): Promise<BatchOutcome> {
  const last = batch.records.at(-1);
  if (!last) return { written: 0, skipped: 0, deadLettered: [] };
  const position: RecordPosition = {
    topic: batch.topic,
    partition: batch.partition,
    nextOffset: last.offset + 1,
  };
  const events: Event[] = [];
  const rejected: { record: IncomingRecord; reason: string }[] = [];
  for (const record of batch.records) {
    try {
      const event = options.decode(record.value);
      const reason = options.reject(event);
      if (reason === undefined) events.push(event);
      else rejected.push({ record, reason });
    } catch (error) {
      rejected.push({ record, reason: `undecodable: ${(error as Error).message}` });
    }
  }
  if (rejected.length > 0) {
    await options.deadLetters.sendRecords(
      options.deadLetterTopic,
      rejected.map(({ record, reason }) => ({
        key: record.key,
        value: record.value,
        headers: {
          'dlq-reason': reason,
          'dlq-source': `${batch.topic}/${batch.partition}/${record.offset}`,
          'dlq-group': options.groupId,
        },
      })),
    );
    for (const { record, reason } of rejected)
      options.logger?.warn(
        { topic: batch.topic, partition: batch.partition, offset: record.offset, reason },
        'event sent to the dead-letter topic',
      );
  }
  const result = await options.write(events, position);
  const metrics = options.metrics;
  if (metrics) {
    metrics.consumed.inc(batch.records.length);
    metrics.written.inc(result.written);
    metrics.skipped.inc(result.skipped);
    metrics.deadLettered.inc(rejected.length);
    metrics.lag.set(
      { topic: batch.topic, partition: String(batch.partition) },
      Math.max(0, batch.highWatermark - position.nextOffset),
    );
  }
  return {
    ...result,
    deadLettered: rejected.map(({ record, reason }) => ({ offset: record.offset, reason })),
  };
}
