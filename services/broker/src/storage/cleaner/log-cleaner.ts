import { join } from 'node:path';
import { CleanupPolicy } from '@hospital/proto';
import type { Logger } from 'pino';
import type { StorageFile } from '../files/storage-files';
import { encodeFrameHeader, type FrameHeader } from '../frame';
import type { PartitionLog } from '../partition-log';
import { segmentFileName, type Segment } from '../segment';
import type { TopicStore } from '../topic-store';
import { compactBatch, recordFacts, type RecordFacts } from './compact-batch';

export interface CleanerOptions {
  /** A tombstone stays this long after it was written, so readers see the delete. */
  deleteRetentionMs: number;
  /** Clean a partition once this share of its closed bytes has not been cleaned yet (Kafka's min.cleanable.dirty.ratio). */
  minCleanableRatio: number;
  /** The most keys one pass maps (Kafka's log.cleaner.dedupe.buffer.size); more wait for the next pass. */
  maxKeys: number;
  now: () => number;
  logger: Logger;
}

export interface CleanResult {
  segmentsBefore: number;
  segmentsAfter: number;
  bytesBefore: number;
  bytesAfter: number;
  recordsDropped: number;
}

/** Lets the event loop run between segments: cleaning never holds up requests for long. */
const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Kafka's LogCleaner for topics with cleanup policy compact (docs/architecture.md,
 * "Storage"): in the background, one partition at a time, it keeps the
 * latest record per key in the closed segments, drops tombstones older
 * than the delete retention along with everything they deleted, and merges
 * small segments. The active segment is never touched. A crash at any
 * point loses nothing (see PartitionLog.swapCleaned).
 */
export class LogCleaner {
  /** Per partition, the offset below which everything has been cleaned since the start. */
  private readonly cleanedTo = new WeakMap<PartitionLog, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private again = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly store: TopicStore,
    private readonly options: CleanerOptions,
  ) {}

  /**
   * Passes every `intervalMs`, and as soon as a compacted partition closes a
   * segment (so dirty data waits for at most one pass, not one interval).
   */
  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.runOnce(), intervalMs);
    this.timer.unref();
    this.unsubscribe = this.store.onSegmentRolled((log) => {
      const topic = this.store.has(log.topic) ? this.store.get(log.topic) : undefined;
      if (topic?.settings.cleanupPolicy === CleanupPolicy.CLEANUP_POLICY_COMPACT) this.wake();
    });
  }

  /** One pass over every compacted partition that is dirty enough; resolves when done. */
  runOnce(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        void this.runOnce();
      }
    });
    return this.running;
  }

  /** A pass soon: after the one running, if any. */
  private wake(): void {
    if (this.running) this.again = true;
    else setImmediate(() => void this.runOnce());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.running;
  }

  private async pass(): Promise<void> {
    for (const topic of this.store.list()) {
      if (topic.settings.cleanupPolicy !== CleanupPolicy.CLEANUP_POLICY_COMPACT) continue;
      for (const log of topic.partitions) {
        if (this.stopped) return;
        try {
          const result = await this.clean(log);
          if (result)
            this.options.logger.info(
              { topic: log.topic, partition: log.partition, ...result },
              'partition cleaned',
            );
        } catch (error) {
          this.options.logger.warn(
            { topic: log.topic, partition: log.partition, err: error },
            'cleaning failed; the next pass tries again',
          );
        }
      }
    }
  }

  /** Cleans one partition if enough of it is dirty; undefined when it was left alone. */
  async clean(log: PartitionLog): Promise<CleanResult | undefined> {
    // Cleaned segments replace durable ones: first make the closed ones durable (at `os` nothing else does).
    if (log.durableEndOffset < log.logEndOffset) await log.sync();
    const segments = [...log.cleanableSegments()];
    if (segments.length === 0) return undefined;
    const cleanedTo = this.cleanedTo.get(log) ?? log.logStartOffset;
    let total = segments.reduce((sum, segment) => sum + segment.size, 0);
    const dirty = segments
      .filter((segment) => segment.baseOffset >= cleanedTo)
      .reduce((sum, segment) => sum + segment.size, 0);
    if (dirty === 0 || dirty < total * this.options.minCleanableRatio) return undefined;

    // The latest offset of every key in the dirty segments, as Kafka's offset
    // map: the clean ones before them were deduplicated by earlier passes. The
    // map is bounded (Kafka's dedupe buffer): when it fills, this pass stops
    // at the segments mapped so far and the next pass goes on from there.
    const latest = new Map<string, number>();
    for (const [index, segment] of segments.entries()) {
      if (segment.baseOffset < cleanedTo) continue;
      for (const { payload } of segment.frames())
        for (const record of recordFacts(payload))
          if (record.key !== undefined) latest.set(record.key, record.offset);
      await yieldToRequests();
      if (latest.size >= this.options.maxKeys && index < segments.length - 1) {
        segments.splice(index + 1);
        total = segments.reduce((sum, mapped) => sum + mapped.size, 0);
        break;
      }
    }
    const deleteHorizonMs = this.options.now() - this.options.deleteRetentionMs;
    // A record stays unless a later one has its key, or it is a tombstone past the delete retention.
    const keep = (record: RecordFacts, maxTimestampMs: number) =>
      record.key === undefined ||
      ((latest.get(record.key) ?? record.offset) === record.offset &&
        !(record.tombstone && maxTimestampMs < deleteHorizonMs));
    let recordsDropped = 0;
    let segmentsAfter = 0;
    // Segments go into one cleaned segment while it surely fits, however
    // little of them survives: small cleaned segments merge as they go.
    let group: Segment[] = [];
    let output: CleanedOutput | undefined;
    const finish = async () => {
      if (!output) return true;
      const done = output;
      output = undefined;
      await done.seal();
      const swapped = await log.swapCleaned(group, done.path);
      group = [];
      segmentsAfter++;
      return swapped;
    };
    for (const segment of segments) {
      if (this.stopped) {
        output?.discard();
        return undefined;
      }
      if (output && output.size + segment.size > log.config.segmentBytes && !(await finish()))
        return undefined;
      output ??= new CleanedOutput(log, segment.baseOffset);
      group.push(segment);
      try {
        const frames = [...segment.frames()];
        for (const [index, { header, payload }] of frames.entries()) {
          const compacted = compactBatch(
            payload,
            (record) => keep(record, header.maxTimestampMs),
            // A segment's last batch stays, empty if need be: it holds the segment's end offset.
            index === frames.length - 1,
          );
          recordsDropped += compacted ? compacted.dropped : recordFacts(payload).length;
          if (compacted) output.append(header, compacted.payload);
        }
      } catch (error) {
        output.discard();
        throw error;
      }
      await yieldToRequests();
    }
    if (!(await finish())) return undefined;
    this.cleanedTo.set(log, segments[segments.length - 1].nextOffset);
    const after = log.cleanableSegments().slice(0, segmentsAfter);
    return {
      segmentsBefore: segments.length,
      segmentsAfter,
      bytesBefore: total,
      bytesAfter: after.reduce((sum, segment) => sum + segment.size, 0),
      recordsDropped,
    };
  }
}

/** A cleaned segment being written beside the log as `<base>.log.cleaned`. */
class CleanedOutput {
  readonly path: string;
  size = 0;
  private readonly file: StorageFile;
  private discarded = false;

  constructor(
    private readonly log: PartitionLog,
    baseOffset: number,
  ) {
    this.path = join(log.dir, `${segmentFileName(baseOffset, 'log')}.cleaned`);
    this.file = log.storage.open(this.path);
  }

  append(header: FrameHeader, payload: Buffer): void {
    const frame = encodeFrameHeader(
      header.baseOffset,
      header.recordCount,
      header.maxTimestampMs,
      payload,
    );
    try {
      if (this.file.append([frame, payload]) !== frame.length + payload.length)
        throw new Error(`short write to ${this.path}`);
    } catch (error) {
      this.discard();
      throw error;
    }
    this.size += frame.length + payload.length;
  }

  /** Durable and closed, ready to be swapped in. */
  async seal(): Promise<void> {
    try {
      await this.file.sync();
    } catch (error) {
      this.discard();
      throw error;
    }
    this.file.close();
  }

  discard(): void {
    if (this.discarded) return;
    this.discarded = true;
    this.file.close();
    this.log.storage.remove(this.path);
  }
}
