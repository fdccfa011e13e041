/**
 * The only way storage touches the disk (docs/architecture.md, "Storage"):
 * a handful of calls a test double can fail, cut short or "power off".
 * Everything but fsync is synchronous page-cache work.
 */
export interface StorageFile {
  readonly path: string;
  /** Bytes in the file now. */
  size(): number;
  /** Appends at the end; returns how many bytes were written, which may be fewer than given. */
  append(buffers: readonly Buffer[]): number;
  /** Reads into `buffer` from `position`; returns the bytes read (fewer at the end of the file). */
  readAt(buffer: Buffer, position: number): number;
  /** Forces the file's data to disk. */
  sync(): Promise<void>;
  truncate(length: number): void;
  close(): void;
}

export interface StorageFiles {
  /** Opens for reading and appending, creating an empty file if there is none. */
  open(path: string): StorageFile;
  /** The whole file, or undefined when it does not exist. */
  readFile(path: string): Buffer | undefined;
  /** Replaces a small file all at once: written beside it, then renamed over it. */
  writeFileAtomic(path: string, data: string | Buffer): void;
  exists(path: string): boolean;
  /** Names in a directory; none when it does not exist. */
  list(dir: string): string[];
  mkdir(dir: string): void;
  rename(from: string, to: string): void;
  /** Removes a file or a whole directory; nothing when it is not there. */
  remove(path: string): void;
}

/** errno codes that mean "the disk is full": the operator frees space, the broker carries on. */
export const SPACE_ERRORS: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/** The errno code of a system error (duck-typed: errors from node:fs may come from another realm). */
export const errorCode = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;

/** A system error's message, whatever realm it was made in. */
export const errorMessage = (error: unknown): string =>
  typeof error === 'object' &&
  error !== null &&
  'message' in error &&
  typeof error.message === 'string'
    ? error.message
    : String(error);
