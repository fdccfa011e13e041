import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { findFreePort } from '../postgres/free-port';

/** The built broker; test targets that use it depend on `broker:build`. */
export const BROKER_MAIN = join(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  'services',
  'broker',
  'dist',
  'main.js',
);

export interface StartBrokerOptions {
  /** Extra BROKER_* settings; port and data directory are chosen unless given. */
  env?: NodeJS.ProcessEnv;
  /** Reuse a data directory (to restart a broker on the same logs). */
  dataDir?: string;
  port?: number;
}

export interface BrokerProcess {
  address: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** Resolves with the signal name or exit code once the process has ended. */
  exited: Promise<string>;
  rssBytes(): number;
  /** SIGTERM and wait: the broker flushes and closes cleanly. */
  stop(): Promise<string>;
  /** SIGKILL and wait: no flush, as in a crash. */
  kill(): Promise<string>;
  /** Removes the data directory if this call created it. */
  cleanup(): void;
}

/**
 * Runs the real broker as its own OS process on a free loopback port and
 * resolves once it logs that it listens, so tests await readiness, never sleep.
 */
export async function startBroker(options: StartBrokerOptions = {}): Promise<BrokerProcess> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'broker-'));
  const port = options.port ?? (await findFreePort());
  const child = spawn(process.execPath, [BROKER_MAIN], {
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      BROKER_HOST: '127.0.0.1',
      BROKER_PORT: String(port),
      BROKER_DATA_DIR: dataDir,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? String(code))),
  );
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (output.length < 20_000) output += `${line}\n`;
      if (line.includes('broker listening')) resolve();
    });
    void exited.then((how) =>
      reject(new Error(`broker exited (${how}) before listening:\n${output}`)),
    );
  });
  const end = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return {
    address: `127.0.0.1:${port}`,
    port,
    dataDir,
    child,
    exited,
    rssBytes: () =>
      Number(
        /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0,
      ) * 1024,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    cleanup: () => {
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
