import {
  Acks,
  batchOverheadUpperBound,
  encodeRecordBatch,
  ErrorReason,
  recordSizeUpperBound,
  type OutgoingRecord,
  topicPartitionKey,
} from '@hospital/proto';
import { status } from '@grpc/grpc-js';
import type { BrokerConnection } from '../connection/broker-connection';
import { BrokerClientError, toClientError } from '../errors';
import { Instrumentation } from '../instrumentation';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from '../retry';
import { BufferBudget } from './buffer-budget';
import { DefaultPartitioner } from './partitioner';
import { TopicMetadataCache } from './topic-metadata';

export interface ProducerMessage extends OutgoingRecord {
  /** Send to this partition instead of the partitioner's choice. */
  partition?: number;
}

export type AcksLevel = 'none' | 'leader' | 'all';

export interface ProducerRecord {
  topic: string;
  messages: ProducerMessage[];
  acks?: AcksLevel;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 with acks 'none'. */
  offset: number;
}

export interface ProducerOptions {
  /**
   * How long a partition's batch may wait for more records (default 0: it
   * goes at the end of the current turn of the event loop, with everything
   * sent in that turn). Batching under load comes from the request in
   * flight: records arriving meanwhile go together once it is answered.
   */
  lingerMs?: number;
  /**
   * Send a partition's batch once it holds this many encoded bytes (default
   * 960 KiB). A batch never exceeds the broker's limit for the topic either,
   * which the producer learns from the topic's description. Linger keeps
   * batches small at low rates; under load one batch per partition per round
   * trip is the limit, and 64 KiB capped a 4-partition topic at ~9,700
   * records/s (bench: compare).
   */
  batchBytes?: number;
  /**
   * Bytes of records held until acknowledged, queued and in flight (Kafka's
   * buffer.memory; default 32 MiB). When full, send() waits for room, in
   * order, for up to maxBlockMs, then fails with ProducerBufferFullError.
   */
  bufferBytes?: number;
  /** How long send() may wait for buffer room (Kafka's max.block.ms; default 60 s). */
  maxBlockMs?: number;
  /**
   * Refresh a topic's partition count and limits after this long (Kafka's
   * metadata.max.age.ms, 5 min there; default 5 s here, so partitions added
   * while the demo runs get records within seconds).
   */
  metadataMaxAgeMs?: number;
  acks?: AcksLevel;
  retry?: RetryOptions;
  /**
   * Produce requests in flight at once, across partitions; one per partition
   * keeps order (default 32). Kafka's 5 is per connection for requests that
   * each carry every ready partition; ours carry one partition each, and
   * with 1,000 partitions 5 in flight took 580 ms to send one record to each
   * (32: 300 ms, bench: rebalance).
   */
  maxInFlight?: number;
  /** The broker's durability wait (default 30 s). */
  timeoutMs?: number;
}

export interface ProducerEvents {
  'producer.batch': {
    topic: string;
    partition: number;
    records: number;
    bytes: number;
    baseOffset: number;
    ms: number;
  };
  'producer.retry': { topic: string; partition: number; attempt: number; error: string };
  /** The broker refused a batch as too large: it is split and sent again. */
  'producer.split': { topic: string; partition: number; records: number; maxBatchBytes: number };
}

interface Pending {
  message: ProducerMessage;
  bytes: number;
  resolve(metadata: RecordMetadata): void;
  reject(error: Error): void;
}

interface PartitionQueue {
  topic: string;
  partition: number;
  acks: AcksLevel;
  pending: Pending[];
  bytes: number;
  /** Cancels the pending linger, if one is set. */
  cancelLinger: (() => void) | undefined;
  /** This partition's request in flight, if any: one at a time keeps records in order. */
  sending: Promise<void> | undefined;
}

const ACKS: Record<AcksLevel, Acks> = {
  none: Acks.ACKS_NONE,
  leader: Acks.ACKS_LEADER,
  all: Acks.ACKS_ALL,
};

const tooLarge = (message: string) =>
  new BrokerClientError(message, ErrorReason.MESSAGE_TOO_LARGE, status.INVALID_ARGUMENT, false);

/**
 * A KafkaJS-style producer: send() batches records per partition (linger,
 * batch size, never over the broker's limit), partitions by key exactly as
 * the broker does over a partition count it keeps fresh, retries retriable
 * failures with backoff, splits a batch the broker finds too large, bounds
 * its memory and its requests in flight, and flushes on disconnect.
 */
export class Producer {
  readonly events = new Instrumentation<ProducerEvents>();
  private readonly partitioner = new DefaultPartitioner();
  private readonly queues = new Map<string, PartitionQueue>();
  private readonly metadata: TopicMetadataCache;
  private readonly buffer: BufferBudget;
  /** What a batch adds around its records; the producer id is fixed, so this is too. */
  private readonly batchOverhead: number;
  private readonly options: Required<ProducerOptions>;
  private inFlight = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private closed = false;
  /** Sends still looking up their topic, not yet in a queue. */
  private readonly preparing = new Set<Promise<unknown>>();

  constructor(
    private readonly connection: BrokerConnection,
    options: ProducerOptions = {},
  ) {
    this.options = {
      lingerMs: options.lingerMs ?? 0,
      batchBytes: options.batchBytes ?? 960 * 1024,
      acks: options.acks ?? 'all',
      retry: options.retry ?? DEFAULT_RETRY,
      maxInFlight: options.maxInFlight ?? 32,
      timeoutMs: options.timeoutMs ?? 30_000,
      bufferBytes: options.bufferBytes ?? 32 * 1024 * 1024,
      maxBlockMs: options.maxBlockMs ?? 60_000,
      metadataMaxAgeMs: options.metadataMaxAgeMs ?? 5_000,
    };
    this.metadata = new TopicMetadataCache(
      (topic) => withRetry(() => this.connection.call('describeTopic', { name: topic })),
      this.options.metadataMaxAgeMs,
    );
    this.buffer = new BufferBudget(this.options.bufferBytes, this.options.maxBlockMs);
    this.batchOverhead = batchOverheadUpperBound(this.connection.clientId);
  }

  /** Bytes of records held now, queued or in flight (at most bufferBytes). */
  get bufferedBytes(): number {
    return this.buffer.usedBytes;
  }

  /** Resolves once every message is acknowledged, with each message's partition and offset. */
  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (this.closed) throw new Error('the producer is disconnected');
    if (record.messages.length === 0) return [];
    const lookup = this.metadata.get(record.topic);
    this.preparing.add(lookup);
    let topic;
    try {
      topic = await lookup;
    } finally {
      this.preparing.delete(lookup);
    }
    const acks = record.acks ?? this.options.acks;
    const limit = this.batchLimit(topic.maxBatchBytes);
    // Refused at once, before anything is queued: retrying cannot help these.
    const placed = record.messages.map((message) => {
      const partition =
        message.partition ??
        this.partitioner.partition(record.topic, message.key, topic.partitions);
      if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
        throw new BrokerClientError(
          `topic ${record.topic} has no partition ${partition}`,
          ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
          status.NOT_FOUND,
          false,
        );
      }
      const bytes = recordSizeUpperBound(message);
      this.buffer.assertFits(bytes);
      if (bytes > limit) {
        throw tooLarge(
          `a record of up to ${bytes} encoded bytes (key, value and headers) does not fit in a batch for topic ${record.topic}: the broker takes at most ${topic.maxBatchBytes} bytes a batch`,
        );
      }
      return { message, partition, bytes };
    });
    const sent: Promise<RecordMetadata>[] = [];
    for (const { message, partition, bytes } of placed) {
      // Waits, in order, while the buffer is full; a full buffer fails after maxBlockMs.
      const room = this.buffer.reserve(bytes);
      if (room) {
        try {
          await room;
        } catch (error) {
          // What was queued before still goes out; its outcome is no longer this call's.
          void Promise.allSettled(sent);
          throw error;
        }
      }
      sent.push(
        new Promise<RecordMetadata>((resolve, reject) =>
          this.enqueue(record.topic, partition, acks, { message, bytes, resolve, reject }),
        ),
      );
    }
    return Promise.all(sent);
  }

  /** Record bytes a batch may hold for a topic: the broker's limit less the batch's own fields. */
  private batchLimit(maxBatchBytes: number): number {
    return Math.min(this.options.batchBytes, maxBatchBytes) - this.batchOverhead;
  }

  /** Sends everything waiting for its linger and resolves when all of it is acknowledged. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.preparing]);
    for (const queue of this.queues.values()) this.drain(queue);
    // A request's completion sends what queued behind it, so wait until every queue is idle.
    for (;;) {
      const sending = [...this.queues.values()].flatMap((queue) =>
        queue.sending ? [queue.sending] : [],
      );
      if (sending.length === 0) return;
      await Promise.all(sending);
    }
  }

  async disconnect(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private enqueue(topic: string, partition: number, acks: AcksLevel, pending: Pending): void {
    const key = `${topicPartitionKey(topic, partition)}\u0000${acks}`;
    let queue = this.queues.get(key);
    if (!queue)
      this.queues.set(
        key,
        (queue = {
          topic,
          partition,
          acks,
          pending: [],
          bytes: 0,
          cancelLinger: undefined,
          sending: undefined,
        }),
      );
    queue.pending.push(pending);
    queue.bytes += pending.bytes;
    if (queue.bytes >= this.limitFor(queue.topic)) this.drain(queue);
    else queue.cancelLinger ??= this.linger(() => this.drain(queue));
  }

  /**
   * Sends the partition's waiting records as one batch (as many as fit),
   * unless a request is in flight for it: then they keep accumulating and go
   * together the moment it completes, as in Kafka's record accumulator. So a
   * slow acknowledgement (acks=all waits for the broker's fsync) grows the
   * next batch instead of queueing many small requests.
   */
  private drain(queue: PartitionQueue): void {
    queue.cancelLinger?.();
    queue.cancelLinger = undefined;
    if (queue.pending.length === 0 || queue.sending) return;
    const limit = this.limitFor(queue.topic);
    let size = queue.pending[0].bytes;
    let count = 1;
    while (count < queue.pending.length && size + queue.pending[count].bytes <= limit)
      size += queue.pending[count++].bytes;
    const batch = queue.pending.splice(0, count);
    queue.bytes -= size;
    const partitions = this.metadata.current(queue.topic)?.partitions;
    if (partitions) this.partitioner.batchSent(queue.topic, partitions);
    queue.sending = this.sendBatch(queue, batch).finally(() => {
      queue.sending = undefined;
      this.drain(queue);
    });
  }

  /** Runs `drain` after the linger: at 0, once this turn's sends are queued (setImmediate, not a 1 ms timer). */
  private linger(drain: () => void): () => void {
    if (this.options.lingerMs <= 0) {
      const immediate = setImmediate(drain);
      return () => clearImmediate(immediate);
    }
    const timer = setTimeout(drain, this.options.lingerMs);
    return () => clearTimeout(timer);
  }

  private limitFor(topic: string): number {
    return this.batchLimit(this.metadata.current(topic)?.maxBatchBytes ?? this.options.batchBytes);
  }

  private async sendBatch(queue: PartitionQueue, batch: Pending[]): Promise<void> {
    await this.acquireSlot();
    const started = Date.now();
    let encodedBytes = 0;
    try {
      const encoded = encodeRecordBatch(
        batch.map((pending) => pending.message),
        { producerId: this.connection.clientId },
      );
      encodedBytes = encoded.records.length;
      const response = await withRetry(
        () =>
          this.connection.produce(
            {
              acks: ACKS[queue.acks],
              timeoutMs: this.options.timeoutMs,
              topics: [
                { name: queue.topic, partitions: [{ partition: queue.partition, batch: encoded }] },
              ],
            },
            { timeoutMs: this.options.timeoutMs + 5_000 },
          ),
        this.options.retry,
        (error, attempt) =>
          this.events.emit('producer.retry', {
            topic: queue.topic,
            partition: queue.partition,
            attempt,
            error: error.message,
          }),
      );
      const { baseOffset } = response.topics[0].partitions[0];
      this.releaseBuffer(batch);
      batch.forEach((pending, index) =>
        pending.resolve({
          topic: queue.topic,
          partition: queue.partition,
          offset: baseOffset < 0 ? -1 : baseOffset + index,
        }),
      );
      this.events.emit('producer.batch', {
        topic: queue.topic,
        partition: queue.partition,
        records: batch.length,
        bytes: encoded.records.length,
        baseOffset,
        ms: Date.now() - started,
      });
    } catch (error) {
      const failure = toClientError(error);
      if (failure.is(ErrorReason.UNKNOWN_TOPIC_OR_PARTITION)) this.metadata.invalidate(queue.topic);
      if (failure.is(ErrorReason.MESSAGE_TOO_LARGE) && batch.length > 1) {
        this.splitAndRequeue(queue, batch, failure, encodedBytes);
        return;
      }
      this.releaseBuffer(batch);
      for (const pending of batch) pending.reject(failure);
    } finally {
      this.releaseSlot();
    }
  }

  /** A settled batch's records leave the buffer, once per batch rather than per record. */
  private releaseBuffer(batch: Pending[]): void {
    this.buffer.release(batch.reduce((sum, pending) => sum + pending.bytes, 0));
  }

  /**
   * The broker refused the batch as too large (its limit is lower than we
   * knew): believe the limit it names, or half this batch, and put the
   * records back at the head of the queue, where the next drain cuts them
   * into smaller batches, in the same order (as Kafka's producer splits).
   */
  private splitAndRequeue(
    queue: PartitionQueue,
    batch: Pending[],
    failure: BrokerClientError,
    encodedBytes: number,
  ): void {
    const named = Number(failure.metadata.max_batch_bytes);
    const half = Math.floor(encodedBytes / 2);
    const maxBatchBytes = Math.min(Number.isFinite(named) && named > 0 ? named : half, half);
    this.metadata.lowerBatchLimit(queue.topic, maxBatchBytes);
    queue.pending.unshift(...batch);
    queue.bytes += batch.reduce((sum, pending) => sum + pending.bytes, 0);
    this.events.emit('producer.split', {
      topic: queue.topic,
      partition: queue.partition,
      records: batch.length,
      maxBatchBytes,
    });
  }

  private async acquireSlot(): Promise<void> {
    while (this.inFlight >= this.options.maxInFlight)
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    this.inFlight++;
  }

  private releaseSlot(): void {
    this.inFlight--;
    this.slotWaiters.shift()?.();
  }
}
