import { DIE_WITH_PARENT } from '@hospital/processes';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface ProcessedRecord {
  partition: number;
  offset: number;
  key: string;
  value: string;
  at: number;
}

export interface JoinedGeneration {
  generation: number;
  partitions: number[];
  at: number;
}

const CHILD = join(__dirname, '..', 'fixtures', 'consumer-child.js');

/** One consumer-group member running in its own process (see fixtures/consumer-child.js). */
export class ConsumerProcess {
  readonly records: ProcessedRecord[] = [];
  readonly joins: JoinedGeneration[] = [];
  readonly rebalances: number[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<string>;
  private readonly listeners = new Set<() => void>();
  private stderr = '';

  constructor(
    readonly name: string,
    env: {
      BROKER: string;
      GROUP: string;
      TOPIC: string;
      ASSIGNORS?: string;
      SESSION_MS?: string;
      COMMIT_MODE?: string;
    },
    /** Shared by the processes of one group: every "partition:offset" any of them processed. */
    readonly processed: Set<string> = new Set(),
  ) {
    this.child = spawn(process.execPath, ['--require', DIE_WITH_PARENT, CHILD], {
      env: { ...process.env, CLIENT_ID: name, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child.channel?.unref();
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve(signal ?? String(code))),
    );
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const [kind, ...fields] = line.split(' ');
      if (kind === 'R') {
        const [partition, offset, key, value, at] = fields;
        this.records.push({
          partition: Number(partition),
          offset: Number(offset),
          key,
          value,
          at: Number(at),
        });
        this.processed.add(`${partition}:${offset}`);
      } else if (kind === 'J') {
        this.joins.push({
          generation: Number(fields[0]),
          partitions: fields[1] ? fields[1].split(',').map(Number) : [],
          at: Number(fields[2]),
        });
      } else if (kind === 'B') {
        this.rebalances.push(Number(fields[0]));
      }
      for (const listener of this.listeners) listener();
    });
  }

  get output(): string {
    return this.stderr;
  }

  /** Resolves when `check` holds, re-checked after every line this process prints. */
  until(check: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      if (check()) return resolve();
      const listener = () => {
        if (!check()) return;
        this.listeners.delete(listener);
        resolve();
      };
      this.listeners.add(listener);
      void this.exited.then((how) => {
        if (this.listeners.delete(listener))
          reject(new Error(`${this.name} exited (${how}) first: ${this.stderr}`));
      });
    });
  }

  stop(): Promise<string> {
    this.child.kill('SIGTERM');
    return this.exited;
  }

  kill(): Promise<string> {
    this.child.kill('SIGKILL');
    return this.exited;
  }
}

/** Resolves when `check` holds, re-checked whenever any of the processes prints. */
export function untilAll(processes: ConsumerProcess[], check: () => boolean): Promise<void> {
  return Promise.race(processes.map((process) => process.until(check)));
}
