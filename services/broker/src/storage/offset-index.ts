import type { StorageFile, StorageFiles } from './files/storage-files';

const ENTRY_BYTES = 8;

/**
 * Sparse offset index of one segment: every `intervalBytes` of log, one entry
 * (offset relative to the segment base, file position). A lookup finds the
 * largest entry at or below an offset by binary search; the reader scans
 * forward from there.
 */
export class OffsetIndex {
  private readonly relativeOffsets: number[] = [];
  private readonly positions: number[] = [];
  private readonly file: StorageFile;

  constructor(
    files: StorageFiles,
    path: string,
    private readonly baseOffset: number,
  ) {
    this.file = files.open(path);
  }

  /** Entries as last written; an index with a partial entry is cut back to whole ones. */
  loadFromFile(): void {
    const bytes = Buffer.alloc(this.file.size());
    this.file.readAt(bytes, 0);
    const whole = bytes.length - (bytes.length % ENTRY_BYTES);
    for (let position = 0; position < whole; position += ENTRY_BYTES) {
      this.relativeOffsets.push(bytes.readUInt32BE(position));
      this.positions.push(bytes.readUInt32BE(position + 4));
    }
    if (whole !== bytes.length) this.file.truncate(whole);
  }

  get entries(): number {
    return this.positions.length;
  }

  get lastPosition(): number {
    return this.positions.length === 0 ? 0 : this.positions[this.positions.length - 1];
  }

  append(offset: number, position: number): void {
    const entry = Buffer.allocUnsafe(ENTRY_BYTES);
    entry.writeUInt32BE(offset - this.baseOffset, 0);
    entry.writeUInt32BE(position, 4);
    if (this.file.append([entry]) !== ENTRY_BYTES) {
      this.file.truncate(this.positions.length * ENTRY_BYTES);
      throw new Error(`index ${this.file.path}: short write`);
    }
    this.relativeOffsets.push(offset - this.baseOffset);
    this.positions.push(position);
  }

  /** File position of the last indexed batch starting at or before `offset` (0 when none). */
  lookup(offset: number): number {
    const target = offset - this.baseOffset;
    let low = 0;
    let high = this.relativeOffsets.length - 1;
    let found = 0;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (this.relativeOffsets[middle] <= target) {
        found = this.positions[middle];
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }

  /** Forgets every entry at or after `position` (the log was truncated there). */
  truncateFrom(position: number): void {
    while (this.positions.length > 0 && this.positions[this.positions.length - 1] >= position) {
      this.positions.pop();
      this.relativeOffsets.pop();
    }
    this.file.truncate(this.positions.length * ENTRY_BYTES);
  }

  reset(): void {
    this.truncateFrom(0);
  }

  close(): void {
    this.file.close();
  }
}
