import type { StorageFile, StorageFiles } from './files/storage-files';

/** How an index stores its keys: 4 bytes relative to a base (offsets), or 8 absolute (timestamps). */
export interface IndexKeys {
  bytes: 4 | 8;
  base: number;
}

/**
 * A sparse, file-backed index of one segment, Kafka's `.index` and
 * `.timeindex`: every so many bytes of log, one entry (a key that only
 * grows, the file position of a frame). A lookup binary-searches the
 * entries; the reader scans forward from the position it gives.
 */
export class SparseIndex {
  private readonly keys: number[] = [];
  private readonly positions: number[] = [];
  private readonly file: StorageFile;
  private readonly entryBytes: number;

  constructor(
    files: StorageFiles,
    path: string,
    private readonly keyFormat: IndexKeys,
  ) {
    this.file = files.open(path);
    this.entryBytes = keyFormat.bytes + 4;
  }

  /** Entries as last written; an index with a partial entry is cut back to whole ones. */
  loadFromFile(): void {
    const bytes = Buffer.alloc(this.file.size());
    this.file.readAt(bytes, 0);
    const whole = bytes.length - (bytes.length % this.entryBytes);
    for (let at = 0; at < whole; at += this.entryBytes) {
      const key =
        this.keyFormat.bytes === 4
          ? bytes.readUInt32BE(at) + this.keyFormat.base
          : Number(bytes.readBigInt64BE(at));
      this.keys.push(key);
      this.positions.push(bytes.readUInt32BE(at + this.keyFormat.bytes));
    }
    if (whole !== bytes.length) this.file.truncate(whole);
  }

  get lastPosition(): number {
    return this.positions.length === 0 ? 0 : this.positions[this.positions.length - 1];
  }

  /** The last key, or -Infinity when there is none. */
  get lastKey(): number {
    return this.keys.length === 0 ? -Infinity : this.keys[this.keys.length - 1];
  }

  append(key: number, position: number): void {
    const entry = Buffer.allocUnsafe(this.entryBytes);
    if (this.keyFormat.bytes === 4) entry.writeUInt32BE(key - this.keyFormat.base, 0);
    else entry.writeBigInt64BE(BigInt(key), 0);
    entry.writeUInt32BE(position, this.keyFormat.bytes);
    if (this.file.append([entry]) !== this.entryBytes) {
      this.file.truncate(this.positions.length * this.entryBytes);
      throw new Error(`index ${this.file.path}: short write`);
    }
    this.keys.push(key);
    this.positions.push(position);
  }

  /** Position of the last entry whose key is at most `key` (below it, when `strictly`); 0 when none. */
  floor(key: number, strictly = false): number {
    let low = 0;
    let high = this.keys.length - 1;
    let found = 0;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (strictly ? this.keys[middle] < key : this.keys[middle] <= key) {
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
      this.keys.pop();
    }
    this.file.truncate(this.positions.length * this.entryBytes);
  }

  reset(): void {
    this.truncateFrom(0);
  }

  close(): void {
    this.file.close();
  }
}
