import { join } from 'node:path';
import { ErrorReason } from '@hospital/proto';
import { BrokerError } from '../errors/broker-error';
import {
  FRAME_HEADER_BYTES,
  frameLength,
  isFrameIntact,
  lastOffsetOf,
  readFrameHeader,
  type FrameHeader,
} from './frame';
import { errorMessage, type StorageFile, type StorageFiles } from './files/storage-files';
import { SparseIndex } from './sparse-index';

/** What a clean shutdown records about a segment, so the next start need not scan it. */
export interface SegmentSummary {
  baseOffset: number;
  nextOffset: number;
  size: number;
  maxTimestampMs: number;
}

/** Where a segment stood before an append, so a failed append can be undone. */
export interface SegmentMark {
  size: number;
  nextOffset: number;
  maxTimestampMs: number;
  bytesSinceIndexEntry: number;
}

/** A frame ready to append: its encoded header and its payload. */
export interface PendingFrame {
  header: Buffer;
  payload: Buffer;
  baseOffset: number;
  recordCount: number;
  maxTimestampMs: number;
}

export interface ReadResult {
  /** Payloads of whole, checksum-verified batches. */
  batches: Buffer[];
  bytes: number;
  /** The offset after the last batch served (where a next read goes on); the asked offset when none. */
  nextOffset: number;
}

const SCAN_CHUNK_BYTES = 1 << 20;
const MIN_READ_BYTES = 64 * 1024;

export const segmentFileName = (
  baseOffset: number,
  extension: 'log' | 'index' | 'timeindex',
): string => `${String(baseOffset).padStart(20, '0')}.${extension}`;

/**
 * One segment of a partition: a log file of frames named by its zero-padded
 * base offset, plus its sparse offset and time indexes. Writes append; reads are
 * positional; everything but fsync is synchronous (page-cache work). All
 * of it goes through StorageFiles, so tests can make any call fail.
 */
export class Segment {
  nextOffset: number;
  size: number;
  maxTimestampMs: number;
  private bytesSinceIndexEntry = 0;
  private readonly file: StorageFile;
  /** Offset -> position of the frame holding it. */
  private readonly index: SparseIndex;
  /** Largest timestamp of every frame before a position -> that position (Kafka's .timeindex). */
  private readonly timeIndex: SparseIndex;

  private constructor(
    private readonly files: StorageFiles,
    private readonly dir: string,
    readonly baseOffset: number,
    private readonly indexIntervalBytes: number,
  ) {
    this.file = files.open(join(dir, segmentFileName(baseOffset, 'log')));
    const opened: { close(): void }[] = [this.file];
    try {
      this.index = new SparseIndex(files, join(dir, segmentFileName(baseOffset, 'index')), {
        bytes: 4,
        base: baseOffset,
      });
      opened.push(this.index);
      this.timeIndex = new SparseIndex(files, join(dir, segmentFileName(baseOffset, 'timeindex')), {
        bytes: 8,
        base: 0,
      });
    } catch (error) {
      for (const handle of opened) handle.close();
      throw error;
    }
    this.nextOffset = baseOffset;
    this.size = 0;
    this.maxTimestampMs = -1;
  }

  static create(
    files: StorageFiles,
    dir: string,
    baseOffset: number,
    indexIntervalBytes: number,
  ): Segment {
    const segment = new Segment(files, dir, baseOffset, indexIntervalBytes);
    segment.index.reset();
    segment.timeIndex.reset();
    return segment;
  }

  /**
   * Opens an existing segment. With a summary from a clean shutdown whose size
   * matches the file, the index is loaded as is; otherwise every frame is
   * checked and the log is cut at the first torn or corrupt one.
   */
  static open(
    files: StorageFiles,
    dir: string,
    baseOffset: number,
    indexIntervalBytes: number,
    trusted: SegmentSummary | undefined,
  ): { segment: Segment; truncatedBytes: number } {
    const segment = new Segment(files, dir, baseOffset, indexIntervalBytes);
    const fileSize = segment.file.size();
    if (trusted && trusted.size === fileSize && trusted.baseOffset === baseOffset) {
      segment.index.loadFromFile();
      segment.timeIndex.loadFromFile();
      segment.size = trusted.size;
      segment.nextOffset = trusted.nextOffset;
      segment.maxTimestampMs = trusted.maxTimestampMs;
      segment.bytesSinceIndexEntry = trusted.size - segment.index.lastPosition;
      return { segment, truncatedBytes: 0 };
    }
    return { segment, truncatedBytes: segment.recover(fileSize) };
  }

  /** Rebuilds index and counters from the frames; truncates after the last intact frame. */
  private recover(fileSize: number): number {
    this.index.reset();
    this.timeIndex.reset();
    let position = 0;
    let chunk: Buffer = Buffer.alloc(0);
    let chunkStart = 0;
    for (;;) {
      let header = readFrameHeader(chunk, position - chunkStart);
      if (!header || position - chunkStart + frameLength(header) > chunk.length) {
        // Refill so the chunk starts at this frame and holds all of it.
        const wanted = Math.max(
          SCAN_CHUNK_BYTES,
          header ? frameLength(header) : FRAME_HEADER_BYTES,
        );
        chunk = this.readAt(position, Math.min(wanted, fileSize - position));
        chunkStart = position;
        header = readFrameHeader(chunk, 0);
      }
      // Stop at a torn or corrupt frame, or one that goes back in offsets (a
      // cleaned segment may skip offsets whose records were compacted away).
      if (!header || header.baseOffset < this.nextOffset) break;
      if (!isFrameIntact(chunk, position - chunkStart, header)) break;
      this.account(header, position);
      position += frameLength(header);
    }
    const truncatedBytes = fileSize - position;
    if (truncatedBytes > 0) this.file.truncate(position);
    return truncatedBytes;
  }

  private account(header: FrameHeader, position: number): void {
    if (position > 0 && this.bytesSinceIndexEntry >= this.indexIntervalBytes) {
      this.index.append(header.baseOffset, position);
      if (this.maxTimestampMs > this.timeIndex.lastKey)
        this.timeIndex.append(this.maxTimestampMs, position);
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += frameLength(header);
    this.size = position + frameLength(header);
    this.nextOffset = lastOffsetOf(header) + 1;
    this.maxTimestampMs = Math.max(this.maxTimestampMs, header.maxTimestampMs);
  }

  /**
   * Appends the frames. A write that fails part way is undone (the file cut
   * back to its last good size) before the error goes up, so no partial
   * frame stays behind for later appends and index positions to build on.
   */
  append(frames: readonly PendingFrame[]): void {
    const mark = this.mark();
    const buffers: Buffer[] = [];
    const entries: [offset: number, position: number][] = [];
    const timeEntries: [timestampMs: number, position: number][] = [];
    let position = this.size;
    let sinceEntry = this.bytesSinceIndexEntry;
    let maxTimestampMs = this.maxTimestampMs;
    let lastTimeEntry = this.timeIndex.lastKey;
    for (const frame of frames) {
      // The first frame of a segment needs no entry: a lookup falls back to position 0.
      if (position > 0 && sinceEntry >= this.indexIntervalBytes) {
        entries.push([frame.baseOffset, position]);
        if (maxTimestampMs > lastTimeEntry)
          timeEntries.push([(lastTimeEntry = maxTimestampMs), position]);
        sinceEntry = 0;
      }
      const length = frame.header.length + frame.payload.length;
      sinceEntry += length;
      position += length;
      maxTimestampMs = Math.max(maxTimestampMs, frame.maxTimestampMs);
      buffers.push(frame.header, frame.payload);
    }
    try {
      writeFully(this.file, buffers);
      for (const [offset, at] of entries) this.index.append(offset, at);
      for (const [timestampMs, at] of timeEntries) this.timeIndex.append(timestampMs, at);
    } catch (error) {
      throw new SegmentWriteError(error, this.restore(mark));
    }
    this.bytesSinceIndexEntry = sinceEntry;
    this.size = position;
    const last = frames[frames.length - 1];
    this.nextOffset = last.baseOffset + last.recordCount;
    for (const frame of frames)
      this.maxTimestampMs = Math.max(this.maxTimestampMs, frame.maxTimestampMs);
  }

  mark(): SegmentMark {
    return {
      size: this.size,
      nextOffset: this.nextOffset,
      maxTimestampMs: this.maxTimestampMs,
      bytesSinceIndexEntry: this.bytesSinceIndexEntry,
    };
  }

  /** Cuts the files back to `mark`; false when the disk refused (the tail is then unknown). */
  restore(mark: SegmentMark): boolean {
    this.size = mark.size;
    this.nextOffset = mark.nextOffset;
    this.maxTimestampMs = mark.maxTimestampMs;
    this.bytesSinceIndexEntry = mark.bytesSinceIndexEntry;
    try {
      this.file.truncate(mark.size);
      this.index.truncateFrom(mark.size);
      this.timeIndex.truncateFrom(mark.size);
      return true;
    } catch {
      return false;
    }
  }

  /** Whole batches holding `offset` and after, up to about `maxBytes` (the first batch always whole). */
  /** Whole batches from `offset` on, up to `maxBytes` (at least one batch), none starting at or past `endOffset`. */
  read(offset: number, maxBytes: number, endOffset = Number.POSITIVE_INFINITY): ReadResult {
    const batches: Buffer[] = [];
    let bytes = 0;
    let nextOffset = offset;
    let position = this.index.floor(offset);
    while (position < this.size && (bytes === 0 || bytes < maxBytes)) {
      const budget = Math.max(MIN_READ_BYTES, maxBytes - bytes + FRAME_HEADER_BYTES);
      let chunk: Buffer = this.readAt(position, Math.min(budget, this.size - position));
      let cursor = 0;
      let progressed = false;
      for (;;) {
        const header = readFrameHeader(chunk, cursor);
        if (!header) break;
        if (cursor + frameLength(header) > chunk.length) {
          if (cursor > 0) break;
          // The first frame is larger than the chunk: read it whole.
          chunk = this.readAt(position, Math.min(frameLength(header), this.size - position));
          if (chunk.length < frameLength(header)) this.corrupt(position, offset);
        }
        if (!isFrameIntact(chunk, cursor, header)) {
          if (batches.length > 0) return { batches, bytes, nextOffset };
          this.corrupt(position + cursor, offset);
        }
        const length = frameLength(header);
        if (header.baseOffset >= endOffset) return { batches, bytes, nextOffset };
        if (lastOffsetOf(header) >= offset) {
          if (bytes > 0 && bytes + header.payloadLength > maxBytes)
            return { batches, bytes, nextOffset };
          batches.push(chunk.subarray(cursor + FRAME_HEADER_BYTES, cursor + length));
          bytes += header.payloadLength;
          nextOffset = lastOffsetOf(header) + 1;
        }
        cursor += length;
        progressed = true;
        if (bytes >= maxBytes) break;
      }
      if (!progressed) break;
      position += cursor;
    }
    return { batches, bytes, nextOffset };
  }

  /**
   * First offset of the first batch whose max timestamp is at or after
   * `timestampMs`. The time index says where every earlier frame is older;
   * the scan reads frame headers from there, at most an index interval's worth.
   */
  offsetForTimestamp(timestampMs: number): number | undefined {
    let position = this.timeIndex.floor(timestampMs, true);
    while (position < this.size) {
      const header = readFrameHeader(this.readAt(position, FRAME_HEADER_BYTES), 0);
      if (!header) return undefined;
      if (header.maxTimestampMs >= timestampMs) return header.baseOffset;
      position += frameLength(header);
    }
    return undefined;
  }

  /** Every frame in file order, whole and checked (the cleaner reads a closed segment this way). */
  *frames(): Generator<{ header: FrameHeader; payload: Buffer }> {
    let position = 0;
    while (position < this.size) {
      let chunk = this.readAt(position, Math.min(SCAN_CHUNK_BYTES, this.size - position));
      let cursor = 0;
      for (;;) {
        const header = readFrameHeader(chunk, cursor);
        if (!header) break;
        if (cursor + frameLength(header) > chunk.length) {
          if (cursor > 0) break;
          chunk = this.readAt(position, Math.min(frameLength(header), this.size - position));
        }
        if (!isFrameIntact(chunk, cursor, header))
          this.corrupt(position + cursor, header.baseOffset);
        yield {
          header,
          payload: chunk.subarray(cursor + FRAME_HEADER_BYTES, cursor + frameLength(header)),
        };
        cursor += frameLength(header);
      }
      position += cursor;
    }
  }

  summary(): SegmentSummary {
    return {
      baseOffset: this.baseOffset,
      nextOffset: this.nextOffset,
      size: this.size,
      maxTimestampMs: this.maxTimestampMs,
    };
  }

  /** Forces written data to disk. The index is not synced: recovery rebuilds it from the log. */
  sync(): Promise<void> {
    return this.file.sync();
  }

  close(): void {
    this.file.close();
    this.index.close();
    this.timeIndex.close();
  }

  /** Closes and deletes both files. */
  remove(): void {
    this.close();
    this.files.remove(join(this.dir, segmentFileName(this.baseOffset, 'log')));
    this.files.remove(join(this.dir, segmentFileName(this.baseOffset, 'index')));
    this.files.remove(join(this.dir, segmentFileName(this.baseOffset, 'timeindex')));
  }

  private readAt(position: number, length: number): Buffer {
    const buffer = Buffer.allocUnsafe(Math.max(0, length));
    let done = 0;
    while (done < buffer.length) {
      const read = this.file.readAt(buffer.subarray(done), position + done);
      if (read === 0) break;
      done += read;
    }
    return done === buffer.length ? buffer : buffer.subarray(0, done);
  }

  private corrupt(position: number, offset: number): never {
    throw new BrokerError(
      ErrorReason.CORRUPT_MESSAGE,
      `stored batch at byte ${position} of segment ${this.baseOffset} failed its checksum; offset ${offset} cannot be served`,
      { segment: String(this.baseOffset), position: String(position) },
    );
  }
}

/** An append the disk refused; `rolledBack` says whether the file was cut back to before it. */
export class SegmentWriteError extends Error {
  constructor(
    override readonly cause: unknown,
    readonly rolledBack: boolean,
  ) {
    super(errorMessage(cause));
  }
}

/** Appends every buffer, finishing short writes. */
function writeFully(file: StorageFile, buffers: Buffer[]): void {
  let pending = buffers;
  while (pending.length > 0) {
    let written = file.append(pending);
    let done = 0;
    while (done < pending.length && written >= pending[done].length)
      written -= pending[done++].length;
    pending = pending.slice(done);
    if (written > 0) pending[0] = pending[0].subarray(written);
  }
}
