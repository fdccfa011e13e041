import { dirname } from 'node:path';
import type { StorageFile, StorageFiles } from '../files/storage-files';

export type FileOperation =
  'open' | 'append' | 'read' | 'sync' | 'truncate' | 'write-file' | 'rename' | 'remove';

/** What an injected fault does to one call. */
export type Fault =
  | { fail: string } // throw an error with this errno code
  | { partial: number; fail: string }; // append only this many bytes, then throw

export type FaultRule = (operation: FileOperation, path: string) => Fault | undefined;

interface Contents {
  data: Buffer;
  /** What survives a power loss: the data as of the last completed fsync. */
  durable: Buffer;
}

const errnoError = (code: string, operation: string, path: string): Error =>
  Object.assign(new Error(`${code}: injected fault, ${operation} '${path}'`), { code });

/** A small deterministic PRNG (mulberry32), so a failing power-loss seed can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Storage in memory for tests, as Jepsen's LazyFS does it on disk: every
 * call can be made to fail or to write only part of its buffers, and a
 * power loss keeps only what was fsynced (optionally plus a torn tail of
 * what was not). File creation, renames and removals count as durable at
 * once; a real file system needs a directory fsync for that, which the
 * storage code does not rely on.
 */
export class MemoryFiles implements StorageFiles {
  private readonly files = new Map<string, Contents>();
  private readonly dirs = new Set<string>();
  private readonly rules: FaultRule[] = [];
  private powered = true;
  /** Calls made so far, so a test can cut the power at the n-th. */
  calls = 0;
  private powerCutAt = Infinity;

  /** Every later call is checked against `rule`; the returned function removes it. */
  inject(rule: FaultRule): () => void {
    this.rules.push(rule);
    return () => this.rules.splice(this.rules.indexOf(rule), 1);
  }

  /** The power goes at the `call`-th call from now: it and everything after it fail. */
  cutPowerAt(call: number): void {
    this.powerCutAt = this.calls + call;
  }

  get powerIsOn(): boolean {
    return this.powered;
  }

  /**
   * The disk as a restarted machine finds it: what was fsynced, and, when
   * `random` is given, maybe a prefix of what was not, its last bytes torn.
   */
  afterPowerLoss(random?: () => number): MemoryFiles {
    this.powered = false;
    const next = new MemoryFiles();
    for (const dir of this.dirs) next.dirs.add(dir);
    for (const [path, contents] of this.files) {
      let survived = contents.durable;
      const unsynced = contents.data.subarray(
        contents.data.length > contents.durable.length ? contents.durable.length : 0,
      );
      if (random && contents.data.length > contents.durable.length && random() < 0.5) {
        const kept = Buffer.from(
          unsynced.subarray(0, Math.floor(random() * (unsynced.length + 1))),
        );
        // A torn sector: the last few bytes written are garbage.
        const torn = Math.min(kept.length, Math.floor(random() * 16));
        for (let index = kept.length - torn; index < kept.length; index++)
          kept[index] = Math.floor(random() * 256);
        survived = Buffer.concat([contents.durable, kept]);
      }
      next.files.set(path, { data: Buffer.from(survived), durable: Buffer.from(survived) });
    }
    return next;
  }

  /** Raw bytes of a file now (for assertions). */
  contents(path: string): Buffer | undefined {
    return this.files.get(path)?.data;
  }

  /** Overwrites bytes in place, as a failing disk might (for corruption tests). */
  corrupt(path: string, position: number, bytes: Buffer): void {
    const contents = this.files.get(path);
    if (contents) bytes.copy(contents.data, position);
  }

  private check(operation: FileOperation, path: string): Fault | undefined {
    this.calls++;
    if (this.calls >= this.powerCutAt) this.powered = false;
    if (!this.powered) throw errnoError('EIO', `${operation} after the power went`, path);
    for (const rule of this.rules) {
      const fault = rule(operation, path);
      if (fault && !('partial' in fault)) throw errnoError(fault.fail, operation, path);
      if (fault) return fault;
    }
    return undefined;
  }

  private contentsOf(path: string): Contents {
    const contents = this.files.get(path);
    if (!contents) throw errnoError('ENOENT', 'use of a removed file', path);
    return contents;
  }

  open(path: string): StorageFile {
    this.check('open', path);
    if (!this.dirs.has(dirname(path))) throw errnoError('ENOENT', 'open', path);
    if (!this.files.has(path))
      this.files.set(path, { data: Buffer.alloc(0), durable: Buffer.alloc(0) });
    return new MemoryFile(this, path);
  }

  /** @internal the file handles' way in */
  handle = {
    size: (path: string) => this.contentsOf(path).data.length,
    append: (path: string, buffers: readonly Buffer[]): number => {
      const fault = this.check('append', path);
      const contents = this.contentsOf(path);
      let bytes = Buffer.concat(buffers as Buffer[]);
      if (fault && 'partial' in fault) bytes = bytes.subarray(0, fault.partial);
      contents.data = Buffer.concat([contents.data, bytes]);
      if (fault) throw errnoError(fault.fail, 'append', path);
      return bytes.length;
    },
    readAt: (path: string, buffer: Buffer, position: number): number => {
      this.check('read', path);
      const { data } = this.contentsOf(path);
      if (position >= data.length) return 0;
      return data.copy(buffer, 0, position, Math.min(data.length, position + buffer.length));
    },
    sync: async (path: string): Promise<void> => {
      this.check('sync', path);
      const snapshot = Buffer.from(this.contentsOf(path).data);
      // In flight for a turn, as a real fsync is: a power cut meanwhile loses it.
      await new Promise((resolve) => setImmediate(resolve));
      if (!this.powered) throw errnoError('EIO', 'sync interrupted by the power going', path);
      const contents = this.files.get(path);
      if (contents) contents.durable = snapshot;
    },
    truncate: (path: string, length: number): void => {
      this.check('truncate', path);
      const contents = this.contentsOf(path);
      contents.data = Buffer.from(contents.data.subarray(0, length));
    },
  };

  readFile(path: string): Buffer | undefined {
    this.check('read', path);
    const contents = this.files.get(path);
    return contents ? Buffer.from(contents.data) : undefined;
  }

  writeFileAtomic(path: string, data: string | Buffer): void {
    this.check('write-file', path);
    const bytes = Buffer.from(data);
    this.files.set(path, { data: bytes, durable: Buffer.from(bytes) });
  }

  exists(path: string): boolean {
    return this.files.has(path) || this.dirs.has(path);
  }

  list(dir: string): string[] {
    const names = new Set<string>();
    for (const path of [...this.files.keys(), ...this.dirs])
      if (dirname(path) === dir) names.add(path.slice(dir.length + 1));
    return [...names].sort();
  }

  mkdir(dir: string): void {
    for (let path = dir; path !== dirname(path); path = dirname(path)) this.dirs.add(path);
  }

  rename(from: string, to: string): void {
    this.check('rename', from);
    for (const map of [this.files, this.dirs] as const) {
      for (const path of [...map.keys()]) {
        if (path !== from && !path.startsWith(`${from}/`)) continue;
        const moved = to + path.slice(from.length);
        if (map instanceof Map) {
          map.set(moved, map.get(path) as Contents);
          map.delete(path);
        } else {
          map.delete(path);
          map.add(moved);
        }
      }
    }
  }

  remove(path: string): void {
    this.check('remove', path);
    for (const file of [...this.files.keys()])
      if (file === path || file.startsWith(`${path}/`)) this.files.delete(file);
    for (const dir of [...this.dirs])
      if (dir === path || dir.startsWith(`${path}/`)) this.dirs.delete(dir);
  }
}

class MemoryFile implements StorageFile {
  private closed = false;

  constructor(
    private readonly files: MemoryFiles,
    readonly path: string,
  ) {}

  /** A closed handle fails as a closed descriptor would (EBADF), so use-after-close shows. */
  private get open(): MemoryFiles['handle'] {
    if (this.closed)
      throw Object.assign(new Error(`EBADF: use of a closed file '${this.path}'`), {
        code: 'EBADF',
      });
    return this.files.handle;
  }

  size(): number {
    return this.open.size(this.path);
  }

  append(buffers: readonly Buffer[]): number {
    return this.open.append(this.path, buffers);
  }

  readAt(buffer: Buffer, position: number): number {
    return this.open.readAt(this.path, buffer, position);
  }

  async sync(): Promise<void> {
    await this.open.sync(this.path);
    // Closed while the fsync was in flight: a real descriptor reused by then would be the wrong file.
    if (this.closed)
      throw Object.assign(new Error(`EBADF: closed during fsync '${this.path}'`), {
        code: 'EBADF',
      });
  }

  truncate(length: number): void {
    this.open.truncate(this.path, length);
  }

  close(): void {
    this.closed = true;
  }
}
