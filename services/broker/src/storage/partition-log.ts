import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ErrorReason } from '@hospital/proto';
import { BrokerError } from '../errors/broker-error';
import { encodeFrameHeader } from './frame';
import { Segment, type PendingFrame, type SegmentSummary } from './segment';
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

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  logAppendTimeMs: number;
}

export interface PartitionReadResult {
  batches: Buffer[];
  bytes: number;
  logStartOffset: number;
  highWatermark: number;
}

const CLEAN_SHUTDOWN_FILE = 'clean-shutdown.json';

/**
 * One partition: an ordered list of segments, the last one active. Assigns
 * offsets, stamps each batch with its base offset and append time, rolls
 * segments, applies retention, and recovers from an unclean stop.
 */
export class PartitionLog {
  private segments: Segment[] = [];
  /** Everything below this offset is on disk (fsynced). */
  private durableOffset: number;
  private syncing: Promise<void> | undefined;
  /** Segments rolled since the last fsync; they need one before being trusted. */
  private unsynced = new Set<Segment>();

  private constructor(
    readonly dir: string,
    private readonly config: PartitionLogConfig,
    readonly truncatedOnRecovery: number,
    segments: Segment[],
  ) {
    this.segments = segments;
    this.durableOffset = this.logEndOffset;
  }

  static open(dir: string, config: PartitionLogConfig): PartitionLog {
    mkdirSync(dir, { recursive: true });
    const trusted = readCleanShutdown(dir);
    const bases = readdirSync(dir)
      .filter((name) => /^\d{20}\.log$/.test(name))
      .map((name) => Number(name.slice(0, 20)))
      .sort((a, b) => a - b);
    const segments: Segment[] = [];
    let truncated = 0;
    for (const base of bases) {
      const { segment, truncatedBytes } = Segment.open(
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
    if (segments.length === 0) segments.push(Segment.create(dir, 0, config.indexIntervalBytes));
    return new PartitionLog(dir, config, truncated, segments);
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

  /** Appends batches in order, giving each the next offsets. */
  append(batches: readonly IncomingBatch[], nowMs: number): AppendResult[] {
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
        this.active.size + frameBytes + length > this.config.segmentBytes &&
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

  private roll(): void {
    this.unsynced.add(this.active);
    this.segments.push(Segment.create(this.dir, this.logEndOffset, this.config.indexIntervalBytes));
  }

  /** Whole batches from `offset` on; OFFSET_OUT_OF_RANGE outside [log start, log end]. */
  read(offset: number, maxBytes: number): PartitionReadResult {
    const logStartOffset = this.logStartOffset;
    const highWatermark = this.logEndOffset;
    if (offset < logStartOffset || offset > highWatermark) {
      throw new BrokerError(
        ErrorReason.OFFSET_OUT_OF_RANGE,
        `offset ${offset} is outside the partition's range [${logStartOffset}, ${highWatermark}]`,
        { log_start_offset: String(logStartOffset), log_end_offset: String(highWatermark) },
      );
    }
    const batches: Buffer[] = [];
    let bytes = 0;
    for (
      let index = this.segmentIndexFor(offset);
      index < this.segments.length && offset < highWatermark;
      index++
    ) {
      const segment = this.segments[index];
      const result = segment.read(
        Math.max(offset, segment.baseOffset),
        bytes === 0 ? maxBytes : maxBytes - bytes,
      );
      batches.push(...result.batches);
      bytes += result.bytes;
      if (bytes >= maxBytes) break;
    }
    return { batches, bytes, logStartOffset, highWatermark };
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
      this.syncing ??= this.syncOnce().finally(() => (this.syncing = undefined));
      await this.syncing;
    }
  }

  private async syncOnce(): Promise<void> {
    const target = this.logEndOffset;
    const segments = [...this.unsynced, this.active];
    this.unsynced.clear();
    await Promise.all(segments.map((segment) => segment.sync()));
    this.durableOffset = Math.max(this.durableOffset, target);
  }

  /** Deletes whole old segments past the retention time or size; returns how many. */
  applyRetention(nowMs: number): number {
    let deleted = 0;
    const expired = (segment: Segment) =>
      this.config.retentionMs >= 0 &&
      segment.maxTimestampMs >= 0 &&
      nowMs - segment.maxTimestampMs > this.config.retentionMs;
    const oversized = () =>
      this.config.retentionBytes >= 0 && this.sizeBytes > this.config.retentionBytes;
    // The active segment stays: it holds the log end.
    while (this.segments.length > 1 && (expired(this.segments[0]) || oversized())) {
      const [oldest] = this.segments.splice(0, 1);
      this.unsynced.delete(oldest);
      oldest.remove();
      deleted++;
    }
    return deleted;
  }

  /** Flushes, records a clean shutdown (so the next start trusts the files), closes. */
  async close(): Promise<void> {
    await this.sync();
    const summaries = this.segments.map((segment) => segment.summary());
    for (const segment of this.segments) segment.close();
    const path = join(this.dir, CLEAN_SHUTDOWN_FILE);
    writeFileSync(`${path}.tmp`, JSON.stringify(summaries));
    renameSync(`${path}.tmp`, path);
  }

  /** Closes without a clean-shutdown record and deletes the directory. */
  destroy(): void {
    for (const segment of this.segments) segment.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Reads and removes the clean-shutdown record: it only vouches for the files until they change. */
function readCleanShutdown(dir: string): Map<number, SegmentSummary> | undefined {
  const path = join(dir, CLEAN_SHUTDOWN_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const summaries = JSON.parse(readFileSync(path, 'utf8')) as SegmentSummary[];
    return new Map(summaries.map((summary) => [summary.baseOffset, summary]));
  } catch {
    return undefined;
  } finally {
    rmSync(path, { force: true });
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
