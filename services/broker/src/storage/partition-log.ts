import { join } from 'node:path';
import { ErrorReason } from '@hospital/proto';
import { BrokerError } from '../errors/broker-error';
import { nodeFiles } from './files/node-files';
import { errorCode, errorMessage, SPACE_ERRORS, type StorageFiles } from './files/storage-files';
import { encodeFrameHeader } from './frame';
import {
  Segment,
  segmentFileName,
  SegmentWriteError,
  type PendingFrame,
  type SegmentMark,
  type SegmentSummary,
} from './segment';
import { encodeVarint } from './varint';

export interface PartitionLogConfig {
  segmentBytes: number;
  indexIntervalBytes: number;
  /** -1 keeps forever. */
  retentionMs: number;
  /** -1 means no size limit. */
  retentionBytes: number;
}

/** A batch to append, already validated: its bytes and what its header says. */
export interface IncomingBatch {
  bytes: Buffer;
  recordCount: number;
  maxTimestampMs: number;
}

/** Who the log is and where it lives, for its errors, and the disk it goes through. */
export interface PartitionContext {
  topic: string;
  partition: number;
  files?: StorageFiles;
  /** Told once, when the partition stops for good after a disk error. */
  onFailed?: (log: PartitionLog, failure: PartitionFailure) => void;
  /** Told when a segment closes (the cleaner wakes for compacted topics). */
  onRolled?: (log: PartitionLog) => void;
}

/** Why a partition stopped: which call failed, and the system's error. */
export interface PartitionFailure {
  operation: 'write' | 'fsync' | 'rollback';
  code: string | undefined;
  message: string;
  atMs: number;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  logAppendTimeMs: number;
}

export interface PartitionReadResult {
  batches: Buffer[];
  bytes: number;
  /** The offset after the last batch served; the asked offset when none was. */
  nextOffset: number;
  logStartOffset: number;
  highWatermark: number;
}

const CLEAN_SHUTDOWN_FILE = 'clean-shutdown.json';

/**
 * One partition: an ordered list of segments, the last one active. Assigns
 * offsets, stamps each batch with its base offset and append time, rolls
 * segments, applies retention, and recovers from an unclean stop.
 *
 * Fail-stop (docs/architecture.md, "Storage"): after an fsync error, or a
 * write the disk refused and that could not be undone, the partition stops
 * answering until a restart has re-validated its tail. The kernel may
 * already have dropped the pages a failed fsync was for, and a later fsync
 * can succeed without them (Postgres's "fsyncgate"), so nothing after it
 * is ever acknowledged. A full disk is the exception: the refused append is
 * cut back out, nothing else was lost, and appends resume once there is room.
 *
 * The asynchronous operations (fsync, retention, close, delete) run one
 * at a time, in the order asked for, so none closes a file another is using.
 */
export class PartitionLog {
  private segments: Segment[] = [];
  /** Everything below this offset is on disk (fsynced). */
  private durableOffset: number;
  private syncing: Promise<void> | undefined;
  /** Segments rolled since the last fsync; they need one before being trusted. */
  private unsynced = new Set<Segment>();
  private failure: PartitionFailure | undefined;
  private closed = false;
  /** The tail of the queue of asynchronous operations. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly files: StorageFiles;

  private constructor(
    readonly dir: string,
    private readonly settings: PartitionLogConfig,
    private readonly context: PartitionContext,
    readonly truncatedOnRecovery: number,
    segments: Segment[],
  ) {
    this.files = context.files ?? nodeFiles;
    this.segments = segments;
    this.durableOffset = this.logEndOffset;
  }

  static open(dir: string, config: PartitionLogConfig, context: PartitionContext): PartitionLog {
    const files = context.files ?? nodeFiles;
    files.mkdir(dir);
    finishInterruptedCleaning(files, dir);
    const trusted = readCleanShutdown(files, dir);
    const bases = files
      .list(dir)
      .filter((name) => /^\d{20}\.log$/.test(name))
      .map((name) => Number(name.slice(0, 20)))
      .sort((a, b) => a - b);
    const segments: Segment[] = [];
    let truncated = 0;
    for (const base of bases) {
      const { segment, truncatedBytes } = Segment.open(
        files,
        dir,
        base,
        config.indexIntervalBytes,
        trusted?.get(base),
      );
      const previous = segments[segments.length - 1];
      if (previous && (truncated > 0 || segment.baseOffset !== previous.nextOffset)) {
        // A gap after a truncation: later segments are no longer contiguous.
        truncated += segment.size;
        segment.remove();
        continue;
      }
      truncated += truncatedBytes;
      segments.push(segment);
    }
    if (segments.length === 0)
      segments.push(Segment.create(files, dir, 0, config.indexIntervalBytes));
    return new PartitionLog(dir, config, context, truncated, segments);
  }

  get topic(): string {
    return this.context.topic;
  }

  get partition(): number {
    return this.context.partition;
  }

  /** Why the partition stopped, or undefined while it is healthy. */
  get failed(): PartitionFailure | undefined {
    return this.failure;
  }

  get logStartOffset(): number {
    return this.segments[0].baseOffset;
  }

  get logEndOffset(): number {
    return this.active.nextOffset;
  }

  get sizeBytes(): number {
    return this.segments.reduce((sum, segment) => sum + segment.size, 0);
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  get durableEndOffset(): number {
    return this.durableOffset;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1];
  }

  /**
   * Appends batches in order, giving each the next offsets. All or nothing:
   * when the disk refuses part of it, everything this call wrote is cut back
   * out and KAFKA_STORAGE_ERROR goes to the producer.
   */
  append(batches: readonly IncomingBatch[], nowMs: number): AppendResult[] {
    this.checkServing();
    const segmentsBefore = this.segments.length;
    const activeBefore = this.active.mark();
    try {
      return this.appendFrames(batches, nowMs);
    } catch (error) {
      if (!(error instanceof SegmentWriteError)) throw error;
      const rolledBack = this.rollBack(segmentsBefore, activeBefore) && error.rolledBack;
      const code = errorCode(error.cause);
      if (!rolledBack) this.fail('rollback', error.cause);
      else if (!SPACE_ERRORS.has(code ?? '')) this.fail('write', error.cause);
      throw this.storageError(rolledBack && SPACE_ERRORS.has(code ?? '') ? { code } : undefined);
    }
  }

  private appendFrames(batches: readonly IncomingBatch[], nowMs: number): AppendResult[] {
    const results: AppendResult[] = [];
    let frames: PendingFrame[] = [];
    let frameBytes = 0;
    let nextOffset = this.logEndOffset;
    for (const batch of batches) {
      const payload = stamp(batch.bytes, nextOffset, nowMs);
      const frame: PendingFrame = {
        header: encodeFrameHeader(nextOffset, batch.recordCount, batch.maxTimestampMs, payload),
        payload,
        baseOffset: nextOffset,
        recordCount: batch.recordCount,
        maxTimestampMs: batch.maxTimestampMs,
      };
      const length = frame.header.length + payload.length;
      if (
        this.active.size + frameBytes + length > this.settings.segmentBytes &&
        this.active.size + frameBytes > 0
      ) {
        if (frames.length > 0) this.active.append(frames);
        frames = [];
        frameBytes = 0;
        this.roll();
      }
      frames.push(frame);
      frameBytes += length;
      results.push({
        baseOffset: nextOffset,
        lastOffset: nextOffset + batch.recordCount - 1,
        logAppendTimeMs: nowMs,
      });
      nextOffset += batch.recordCount;
    }
    if (frames.length > 0) this.active.append(frames);
    return results;
  }

  /** Undoes a failed append: segments it rolled go, the active one is cut back. */
  private rollBack(segmentCount: number, activeMark: SegmentMark): boolean {
    let clean = true;
    while (this.segments.length > segmentCount) {
      const rolled = this.segments.pop() as Segment;
      try {
        rolled.remove();
      } catch {
        clean = false;
      }
    }
    const active = this.active;
    this.unsynced.delete(active);
    return active.restore(activeMark) && clean;
  }

  private roll(): void {
    const next = Segment.create(
      this.files,
      this.dir,
      this.logEndOffset,
      this.settings.indexIntervalBytes,
    );
    this.unsynced.add(this.active);
    this.segments.push(next);
    this.context.onRolled?.(this);
  }

  /**
   * Whole batches from `offset` on, none at or past `endOffset` (what
   * consumers may see: the durable end at fsync durability);
   * OFFSET_OUT_OF_RANGE outside [log start, log end].
   */
  read(offset: number, maxBytes: number, endOffset = this.logEndOffset): PartitionReadResult {
    this.checkServing();
    const logStartOffset = this.logStartOffset;
    const logEndOffset = this.logEndOffset;
    const highWatermark = Math.min(endOffset, logEndOffset);
    if (offset < logStartOffset || offset > logEndOffset) {
      throw new BrokerError(
        ErrorReason.OFFSET_OUT_OF_RANGE,
        `offset ${offset} is outside the partition's range [${logStartOffset}, ${logEndOffset}]`,
        { log_start_offset: String(logStartOffset), log_end_offset: String(logEndOffset) },
      );
    }
    const batches: Buffer[] = [];
    let bytes = 0;
    let nextOffset = offset;
    for (
      let index = this.segmentIndexFor(offset);
      index < this.segments.length && offset < highWatermark;
      index++
    ) {
      const segment = this.segments[index];
      const result = segment.read(
        Math.max(offset, segment.baseOffset),
        bytes === 0 ? maxBytes : maxBytes - bytes,
        highWatermark,
      );
      batches.push(...result.batches);
      bytes += result.bytes;
      if (result.batches.length > 0) nextOffset = result.nextOffset;
      if (bytes >= maxBytes) break;
    }
    return { batches, bytes, nextOffset, logStartOffset, highWatermark };
  }

  private segmentIndexFor(offset: number): number {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.segments[middle].baseOffset <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /** Earliest offset whose batch has a timestamp at or after `timestampMs`; undefined when none. */
  offsetForTimestamp(timestampMs: number): number | undefined {
    for (const segment of this.segments) {
      if (segment.maxTimestampMs < timestampMs) continue;
      const offset = segment.offsetForTimestamp(timestampMs);
      if (offset !== undefined) return offset;
    }
    return undefined;
  }

  /**
   * Makes everything appended so far durable. Callers that arrive while an
   * fsync runs wait for it and then share the next one (group commit).
   */
  async sync(): Promise<void> {
    const target = this.logEndOffset;
    while (this.durableOffset < target) {
      this.checkServing();
      this.syncing ??= this.serially(() => this.syncOnce()).finally(
        () => (this.syncing = undefined),
      );
      await this.syncing;
    }
  }

  private async syncOnce(): Promise<void> {
    this.checkServing();
    const target = this.logEndOffset;
    const segments = [...this.unsynced, this.active];
    this.unsynced.clear();
    try {
      await Promise.all(segments.map((segment) => segment.sync()));
    } catch (error) {
      this.fail('fsync', error);
      throw this.storageError();
    }
    this.durableOffset = Math.max(this.durableOffset, target);
  }

  /** Deletes whole old segments past the retention time or size; returns how many. */
  applyRetention(nowMs: number): Promise<number> {
    return this.serially(() => {
      if (this.closed || this.failure) return 0;
      let deleted = 0;
      const expired = (segment: Segment) =>
        this.settings.retentionMs >= 0 &&
        segment.maxTimestampMs >= 0 &&
        nowMs - segment.maxTimestampMs > this.settings.retentionMs;
      const oversized = () =>
        this.settings.retentionBytes >= 0 && this.sizeBytes > this.settings.retentionBytes;
      // The active segment stays: it holds the log end.
      while (this.segments.length > 1 && (expired(this.segments[0]) || oversized())) {
        const [oldest] = this.segments.splice(0, 1);
        this.unsynced.delete(oldest);
        oldest.remove();
        deleted++;
      }
      return deleted;
    });
  }

  /**
   * Flushes, records a clean shutdown (so the next start trusts the files),
   * closes. A failed partition gets no such record: the next start
   * re-validates its tail.
   */
  close(): Promise<void> {
    const flushed = this.failure ? Promise.resolve() : this.sync().catch(() => undefined);
    return flushed.then(() =>
      this.serially(() => {
        if (this.closed) return;
        this.closed = true;
        const summaries = this.segments.map((segment) => segment.summary());
        for (const segment of this.segments) segment.close();
        if (this.failure) return;
        try {
          this.files.writeFileAtomic(
            join(this.dir, CLEAN_SHUTDOWN_FILE),
            JSON.stringify(summaries),
          );
        } catch {
          // A full disk, say: without the record the next start re-validates the files.
        }
      }),
    );
  }

  /** Closes without a clean-shutdown record, once any fsync in flight is done; the caller deletes the files. */
  release(): Promise<void> {
    return this.serially(() => {
      if (this.closed) return;
      this.closed = true;
      for (const segment of this.segments) segment.close();
    });
  }

  /** Closes and deletes the directory (a partition of a topic being deleted). */
  async destroy(): Promise<void> {
    await this.release();
    this.files.remove(this.dir);
  }

  /**
   * The segments the cleaner may rewrite: closed (not the active one) and
   * wholly durable, oldest first.
   */
  cleanableSegments(): readonly Segment[] {
    if (this.closed || this.failure) return [];
    const closedSegments = this.segments.slice(0, -1);
    const durable = closedSegments.findIndex((segment) => segment.nextOffset > this.durableOffset);
    return durable < 0 ? closedSegments : closedSegments.slice(0, durable);
  }

  get config(): Readonly<PartitionLogConfig> {
    return this.settings;
  }

  get storage(): StorageFiles {
    return this.files;
  }

  /**
   * Puts a cleaned, fsynced segment in place of `group` (consecutive closed
   * segments). Crash-safe by renames, as Kafka's cleaner does it: the
   * `.cleaned` file becomes a `.swap` that names the offsets it replaces
   * (from then on a restart completes the swap), the old files go, and the
   * swap becomes the segment. False, and the cleaned file gone, when the
   * group changed meanwhile (a delete, say).
   */
  swapCleaned(group: readonly Segment[], cleanedPath: string): Promise<boolean> {
    return this.serially(() => {
      const start = this.segments.indexOf(group[0]);
      const intact =
        !this.closed &&
        !this.failure &&
        start >= 0 &&
        start + group.length < this.segments.length &&
        group.every((segment, index) => this.segments[start + index] === segment);
      if (!intact) {
        this.files.remove(cleanedPath);
        return false;
      }
      const base = group[0].baseOffset;
      const end = group[group.length - 1].nextOffset;
      const swapPath = join(this.dir, swapFileName(base, end));
      try {
        this.files.rename(cleanedPath, swapPath);
        for (const segment of group) {
          this.unsynced.delete(segment);
          segment.remove();
        }
        this.files.rename(swapPath, join(this.dir, segmentFileName(base, 'log')));
        const { segment } = Segment.open(
          this.files,
          this.dir,
          base,
          this.settings.indexIntervalBytes,
          undefined,
        );
        this.segments.splice(start, group.length, segment);
      } catch (error) {
        // Half swapped in memory: stop, and let the restart finish the swap from the files.
        this.fail('rollback', error);
        throw this.storageError();
      }
      return true;
    });
  }

  /** Runs `operation` after every asynchronous operation asked for before it. */
  private serially<T>(operation: () => T | Promise<T>): Promise<T> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private checkServing(): void {
    if (this.closed)
      throw new BrokerError(
        ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
        `partition ${this.name} was deleted or the broker is stopping`,
        { topic: this.topic, partition: String(this.partition) },
      );
    if (this.failure) throw this.storageError();
  }

  private get name(): string {
    return `${this.topic}/${this.partition}`;
  }

  /** KAFKA_STORAGE_ERROR naming the partition and what the disk said. */
  storageError(passing?: { code: string | undefined }): BrokerError {
    const failure = this.failure;
    const message = passing
      ? `the disk is full (${passing.code}); nothing of this request was stored, retry once there is room`
      : failure
        ? `is offline after a disk error (${failure.operation}: ${failure.message}); nothing more is acknowledged until the broker restarts and re-validates it`
        : 'had a disk error';
    const code = passing?.code ?? failure?.code;
    return new BrokerError(
      ErrorReason.KAFKA_STORAGE_ERROR,
      `partition ${this.name}${passing ? ':' : ''} ${message}`,
      {
        topic: this.topic,
        partition: String(this.partition),
        ...(code ? { errno: code } : {}),
      },
    );
  }

  private fail(operation: PartitionFailure['operation'], cause: unknown): void {
    if (this.failure) return;
    this.failure = {
      operation,
      code: errorCode(cause),
      message: errorMessage(cause),
      atMs: Date.now(),
    };
    this.context.onFailed?.(this, this.failure);
  }
}

const SWAP_FILE = /^(\d{20})-(\d{20})\.swap$/;
const swapFileName = (base: number, end: number) =>
  `${String(base).padStart(20, '0')}-${String(end).padStart(20, '0')}.swap`;

/**
 * After a crash mid-clean: a `.cleaned` file was never swapped in, so it
 * goes; a `.swap` file was committed, so the segments in the offsets it
 * names go and it takes their place.
 */
function finishInterruptedCleaning(files: StorageFiles, dir: string): void {
  for (const name of files.list(dir)) {
    if (name.endsWith('.cleaned')) {
      files.remove(join(dir, name));
      continue;
    }
    const swap = SWAP_FILE.exec(name);
    if (!swap) continue;
    const [base, end] = [Number(swap[1]), Number(swap[2])];
    for (const other of files.list(dir)) {
      const segment = /^(\d{20})\.(log|index|timeindex)$/.exec(other);
      if (segment && Number(segment[1]) >= base && Number(segment[1]) < end)
        files.remove(join(dir, other));
    }
    files.rename(join(dir, name), join(dir, segmentFileName(base, 'log')));
  }
}

/** Reads and removes the clean-shutdown record: it only vouches for the files until they change. */
function readCleanShutdown(
  files: StorageFiles,
  dir: string,
): Map<number, SegmentSummary> | undefined {
  const path = join(dir, CLEAN_SHUTDOWN_FILE);
  const bytes = files.readFile(path);
  if (!bytes) return undefined;
  try {
    const summaries = JSON.parse(bytes.toString('utf8')) as SegmentSummary[];
    return new Map(summaries.map((summary) => [summary.baseOffset, summary]));
  } catch {
    return undefined;
  } finally {
    files.remove(path);
  }
}

/**
 * The stored form of a batch: the producer's bytes followed by base_offset
 * (field 1) and log_append_time_ms (field 6). A later scalar field wins in
 * protobuf, so readers see the broker's values without a re-encode.
 */
function stamp(bytes: Buffer, baseOffset: number, appendTimeMs: number): Buffer {
  const suffix: number[] = [0x08];
  encodeVarint(baseOffset, suffix);
  suffix.push(0x30);
  encodeVarint(appendTimeMs, suffix);
  return Buffer.concat([bytes, Buffer.from(suffix)]);
}
