import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const BROKER_MAIN = join(__dirname, '..', '..', '..', 'services', 'broker', 'dist', 'main.js');

export interface BenchBroker {
  child: ChildProcess;
  address: string;
  /** Resident set size of the broker process, in bytes. */
  rssBytes(): number;
  stop(): Promise<void>;
}

/** Starts the built broker as its own process, as users run it. */
export async function startBenchBroker(port: number, env: NodeJS.ProcessEnv): Promise<BenchBroker> {
  const child = spawn(process.execPath, [BROKER_MAIN], {
    env: { ...process.env, BROKER_PORT: String(port), LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on(
      'line',
      (line) => line.includes('broker listening') && resolve(),
    );
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}`)));
  });
  return {
    child,
    address: `127.0.0.1:${port}`,
    rssBytes: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
