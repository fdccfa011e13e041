import {
  Acks,
  CleanupPolicy,
  encodeRecordBatch,
  ErrorDetail,
  ErrorReason,
  internal,
  partitionForKey,
  RecordBatch,
  RecordSet,
  type FetchRequest,
  type ListOffsetsRequest,
  type ListOffsetsResponse,
  type ProduceResponse,
  type PartitionProduceResponse,
  topicPartitionKey,
} from '@hospital/proto';
import { BrokerError, invalidField } from '../errors/broker-error';
import type { GroupCommit } from '../storage/group-commit';
import type { IncomingBatch, PartitionLog } from '../storage/partition-log';
import type { TopicStore } from '../storage/topic-store';
import { AppendSignal } from './append-signal';
import { validateBatch } from './batch-header';

export interface DataPlaneLimits {
  maxBatchBytes: number;
  maxRequestBytes: number;
  maxWaitMs: number;
}

const DEFAULT_PRODUCE_TIMEOUT_MS = 30_000;

interface PlannedAppend {
  topic: string;
  partition: number;
  log: PartitionLog;
  batches: IncomingBatch[];
}

/** Produce, Fetch and ListOffsets over the topic store. Pure request-in, response-out; no transport here. */
export class DataPlane {
  readonly appended = new AppendSignal();
  private nextStickyPartition = 0;

  constructor(
    private readonly store: TopicStore,
    private readonly groupCommit: GroupCommit,
    private readonly limits: DataPlaneLimits,
    private readonly now: () => number,
  ) {}

  async produce(request: internal.ProduceRequestView): Promise<ProduceResponse> {
    const acks = request.acks === Acks.ACKS_UNSPECIFIED ? Acks.ACKS_ALL : request.acks;
    if (![Acks.ACKS_NONE, Acks.ACKS_LEADER, Acks.ACKS_ALL].includes(acks)) {
      throw new BrokerError(
        ErrorReason.INVALID_REQUIRED_ACKS,
        `acks must be ACKS_NONE, ACKS_LEADER or ACKS_ALL, got ${request.acks}`,
        { field: 'acks' },
      );
    }
    if (request.timeoutMs < 0) throw invalidField('timeout_ms', 'must not be negative');
    if (request.topics.length === 0) throw invalidField('topics', 'at least one topic is required');

    // Validate everything before appending anything: a bad batch fails the whole request.
    const plan = this.plan(request);
    const nowMs = this.now();
    const responses = new Map<string, PartitionProduceResponse[]>();
    const durable: Promise<void>[] = [];
    for (const step of plan) {
      const results = step.log.append(step.batches, nowMs);
      const last = results[results.length - 1];
      // Whatever the acks, the records become visible to fetches once the
      // level's promise holds (at fsync: once durable), and fetches wake then.
      const made = this.groupCommit.waitDurable(step.log, last.lastOffset + 1);
      const wake = () => this.appended.notify(step.log);
      void made.then(wake, wake);
      if (acks === Acks.ACKS_ALL) durable.push(made);
      const list = responses.get(step.topic) ?? [];
      responses.set(step.topic, list);
      for (const [index, result] of results.entries()) {
        list.push({
          partition: step.partition,
          baseOffset: acks === Acks.ACKS_NONE ? -1 : result.baseOffset,
          logAppendTimeMs: result.logAppendTimeMs,
          logStartOffset: step.log.logStartOffset,
          recordCount: step.batches[index].recordCount,
        });
      }
    }
    if (durable.length > 0) {
      const timeoutMs = Math.min(
        request.timeoutMs || DEFAULT_PRODUCE_TIMEOUT_MS,
        this.limits.maxWaitMs,
      );
      await withTimeout(
        Promise.all(durable),
        timeoutMs,
        () =>
          new BrokerError(
            ErrorReason.REQUEST_TIMED_OUT,
            `records were appended but not made durable within ${timeoutMs} ms`,
          ),
      );
    }
    return { topics: [...responses].map(([name, partitions]) => ({ name, partitions })) };
  }

  private plan(request: internal.ProduceRequestView): PlannedAppend[] {
    const plan = new Map<string, PlannedAppend>();
    const add = (topic: string, partition: number, batch: IncomingBatch) => {
      const key = topicPartitionKey(topic, partition);
      let step = plan.get(key);
      if (!step)
        plan.set(
          key,
          (step = { topic, partition, log: this.store.partition(topic, partition), batches: [] }),
        );
      step.batches.push(batch);
    };
    let totalBytes = 0;
    for (const [topicIndex, topicData] of request.topics.entries()) {
      const topic = this.store.get(topicData.name);
      if (topic.internal) {
        throw new BrokerError(
          ErrorReason.TOPIC_AUTHORIZATION_FAILED,
          `internal topic "${topic.name}" is written by the broker only`,
        );
      }
      for (const [partitionIndex, data] of topicData.partitions.entries()) {
        const where = `topics[${topicIndex}].partitions[${partitionIndex}]`;
        totalBytes += data.batch.length;
        const batch = validateBatch(data.batch, where, this.limits.maxBatchBytes);
        if (topic.settings.cleanupPolicy === CleanupPolicy.CLEANUP_POLICY_COMPACT)
          requireKeys(batch, where, topic.name);
        if (data.partition !== undefined) {
          this.store.partition(topic.name, data.partition);
          add(topic.name, data.partition, batch);
          continue;
        }
        for (const [partition, split] of this.splitByKey(batch, topic.partitions.length))
          add(topic.name, partition, split);
      }
    }
    if (totalBytes > this.limits.maxRequestBytes) {
      throw new BrokerError(
        ErrorReason.RECORD_LIST_TOO_LARGE,
        `request carries ${totalBytes} bytes of batches, more than ${this.limits.maxRequestBytes}`,
      );
    }
    return [...plan.values()];
  }

  /**
   * The slow path for batches sent without a partition: Kafka's default
   * partitioner per record (murmur2 of the key); records without a key stay
   * together on one partition, rotating per batch.
   */
  private splitByKey(batch: IncomingBatch, partitions: number): Map<number, IncomingBatch> {
    const decoded = RecordBatch.decode(batch.bytes);
    const sticky = this.nextStickyPartition++ % partitions;
    const groups = new Map<
      number,
      { key?: Buffer; value: Buffer; timestamp: number; headers: { [key: string]: Buffer } }[]
    >();
    for (const record of RecordSet.decode(decoded.records).records) {
      const partition = record.key === undefined ? sticky : partitionForKey(record.key, partitions);
      const group = groups.get(partition) ?? [];
      groups.set(partition, group);
      group.push({
        key: record.key,
        value: record.value,
        timestamp: decoded.baseTimestampMs + record.timestampDelta,
        headers: Object.fromEntries(record.headers.map((header) => [header.key, header.value])),
      });
    }
    const split = new Map<number, IncomingBatch>();
    for (const [partition, records] of groups) {
      const encoded = encodeRecordBatch(records, { producerId: decoded.producerId });
      split.set(partition, {
        bytes: Buffer.from(RecordBatch.encode(encoded).finish()),
        recordCount: records.length,
        maxTimestampMs: encoded.maxTimestampMs,
      });
    }
    return split;
  }

  /**
   * Reads every requested partition; when fewer than min_bytes are there,
   * waits (up to max_wait_ms) for an append and reads again. A partition that
   * fails is reported in its own slot; the call fails only when all do.
   */
  async fetch(request: FetchRequest, signal?: AbortSignal): Promise<internal.FetchResponseView> {
    if (request.maxWaitMs < 0) throw invalidField('max_wait_ms', 'must not be negative');
    if (request.minBytes < 0)
      throw new BrokerError(ErrorReason.INVALID_FETCH_SIZE, 'min_bytes must not be negative', {
        field: 'min_bytes',
      });
    if (request.maxBytes < 0)
      throw new BrokerError(ErrorReason.INVALID_FETCH_SIZE, 'max_bytes must not be negative', {
        field: 'max_bytes',
      });
    const wanted = request.topics.flatMap((topic) =>
      topic.partitions.map((partition) => ({ topic: topic.name, ...partition })),
    );
    if (wanted.length === 0) throw invalidField('topics', 'name at least one partition to fetch');
    for (const [index, partition] of wanted.entries()) {
      if (partition.partitionMaxBytes < 0) {
        throw new BrokerError(
          ErrorReason.INVALID_FETCH_SIZE,
          `partitions[${index}].partition_max_bytes must not be negative`,
        );
      }
    }
    const maxBytes = Math.min(
      request.maxBytes || this.limits.maxRequestBytes,
      this.limits.maxRequestBytes - 64 * 1024,
    );
    const deadline = this.now() + Math.min(request.maxWaitMs, this.limits.maxWaitMs);
    for (;;) {
      const { response, bytes, logs, failures } = await this.readOnce(wanted, maxBytes);
      if (failures.length === wanted.length) throw failures[0];
      const remaining = deadline - this.now();
      if (bytes >= Math.max(1, request.minBytes) || remaining <= 0 || signal?.aborted)
        return response;
      await this.appended.wait(logs, remaining, signal);
    }
  }

  private async readOnce(
    wanted: { topic: string; partition: number; fetchOffset: number; partitionMaxBytes: number }[],
    maxBytes: number,
  ): Promise<{
    response: internal.FetchResponseView;
    bytes: number;
    logs: PartitionLog[];
    failures: BrokerError[];
  }> {
    const topics = new Map<string, internal.FetchPartitionResponseView[]>();
    const logs: PartitionLog[] = [];
    const failures: BrokerError[] = [];
    let bytes = 0;
    for (const item of wanted) {
      const slot: internal.FetchPartitionResponseView = {
        partition: item.partition,
        error: Buffer.alloc(0),
        highWatermark: -1,
        logStartOffset: -1,
        batches: [],
      };
      const list = topics.get(item.topic) ?? [];
      topics.set(item.topic, list);
      list.push(slot);
      try {
        const log = this.store.partition(item.topic, item.partition);
        logs.push(log);
        const budget = Math.max(0, maxBytes - bytes);
        const limit =
          item.partitionMaxBytes > 0 ? Math.min(item.partitionMaxBytes, budget) : budget;
        const visibleEnd = this.groupCommit.visibleEnd(log);
        slot.highWatermark = visibleEnd;
        slot.logStartOffset = log.logStartOffset;
        if (limit === 0 && bytes > 0) continue;
        const result = await readInSlices(log, item.fetchOffset, Math.max(limit, 1), () =>
          this.groupCommit.visibleEnd(log),
        );
        slot.batches = result.batches;
        bytes += result.bytes;
      } catch (error) {
        if (!(error instanceof BrokerError)) throw error;
        failures.push(error);
        slot.error = Buffer.from(ErrorDetail.encode(error.toDetail()).finish());
      }
    }
    const response = { topics: [...topics].map(([name, partitions]) => ({ name, partitions })) };
    return { response, bytes, logs, failures };
  }

  listOffsets(request: ListOffsetsRequest): ListOffsetsResponse {
    const topic = this.store.get(request.topic);
    const spec = request.spec?.spec;
    if (!spec) throw invalidField('spec', 'say earliest, latest or timestamp_ms');
    const partitions =
      request.partitions.length > 0
        ? request.partitions
        : topic.partitions.map((_, index) => index);
    return {
      partitions: partitions.map((partition) => {
        const log = this.store.partition(topic.name, partition);
        switch (spec.$case) {
          case 'earliest':
            return { partition, offset: log.logStartOffset, timestampMs: -1 };
          case 'latest':
            // As Kafka's high watermark: the end consumers can read to.
            return { partition, offset: this.groupCommit.visibleEnd(log), timestampMs: -1 };
          case 'timestampMs':
            return {
              partition,
              offset: log.offsetForTimestamp(spec.value) ?? -1,
              timestampMs: spec.value,
            };
        }
      }),
    };
  }
}

/** As Kafka: compaction keeps the latest record per key, so a compacted topic takes only keyed records. */
function requireKeys(batch: IncomingBatch, where: string, topic: string): void {
  const records = RecordSet.decode(RecordBatch.decode(batch.bytes).records).records;
  const index = records.findIndex((record) => record.key === undefined);
  if (index >= 0)
    throw new BrokerError(
      ErrorReason.INVALID_RECORD,
      `${where}: record ${index} has no key; topic ${topic} is compacted and takes only keyed records`,
      { field: `${where}.batch` },
    );
}

/**
 * Reads are synchronous (page-cache copies), so a big fetch is read a slice
 * at a time with a turn of the event loop between slices: a cold 16 MiB
 * read never holds up heartbeats and other requests for more than one slice.
 */
export const READ_SLICE_BYTES = 1024 * 1024;

async function readInSlices(
  log: PartitionLog,
  fetchOffset: number,
  maxBytes: number,
  visibleEnd: () => number,
): Promise<{ batches: Buffer[]; bytes: number }> {
  const first = log.read(fetchOffset, Math.min(maxBytes, READ_SLICE_BYTES), visibleEnd());
  const batches = first.batches;
  let { bytes, nextOffset } = first;
  while (bytes < maxBytes && batches.length > 0 && nextOffset < visibleEnd()) {
    await new Promise((resolve) => setImmediate(resolve));
    let slice;
    try {
      slice = log.read(nextOffset, Math.min(maxBytes - bytes, READ_SLICE_BYTES), visibleEnd());
    } catch {
      break; // retention or a delete got there first: serve what was read
    }
    if (slice.batches.length === 0 || bytes + slice.bytes > maxBytes) break;
    batches.push(...slice.batches);
    bytes += slice.bytes;
    nextOffset = slice.nextOffset;
  }
  return { batches, bytes };
}

async function withTimeout<T>(
  work: Promise<T>,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
