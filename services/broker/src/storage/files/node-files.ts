import {
  closeSync,
  existsSync,
  fdatasync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writevSync,
} from 'node:fs';
import type { StorageFile, StorageFiles } from './storage-files';

class NodeFile implements StorageFile {
  private readonly fd: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a+');
  }

  size(): number {
    return fstatSync(this.fd).size;
  }

  append(buffers: readonly Buffer[]): number {
    return writevSync(this.fd, buffers as Buffer[]);
  }

  readAt(buffer: Buffer, position: number): number {
    return readSync(this.fd, buffer, 0, buffer.length, position);
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) =>
      fdatasync(this.fd, (error) => (error ? reject(error) : resolve())),
    );
  }

  truncate(length: number): void {
    ftruncateSync(this.fd, length);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The real disk, through node:fs. */
export const nodeFiles: StorageFiles = {
  open: (path) => new NodeFile(path),
  readFile: (path) => (existsSync(path) ? readFileSync(path) : undefined),
  writeFileAtomic(path, data) {
    writeFileSync(`${path}.tmp`, data);
    renameSync(`${path}.tmp`, path);
  },
  exists: (path) => existsSync(path),
  list: (dir) => (existsSync(dir) ? readdirSync(dir) : []),
  mkdir: (dir) => void mkdirSync(dir, { recursive: true }),
  rename: (from, to) => renameSync(from, to),
  remove: (path) => rmSync(path, { recursive: true, force: true }),
};
