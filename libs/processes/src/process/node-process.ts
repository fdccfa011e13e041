import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface StartNodeProcessOptions {
  /** Shown in errors. */
  name: string;
  /** The script to run with this Node. */
  main: string;
  env?: NodeJS.ProcessEnv;
  /** The process counts as started at the first stdout line this accepts (it must log at a level that prints it). */
  readyWhen(line: string): boolean;
  /** Fails (and kills the process) when not ready by then (default 30 s, so a suite's setup fails with the reason inside Jest's 60 s hook timeout). */
  readyTimeoutMs?: number;
}

export interface NodeProcess {
  name: string;
  child: ChildProcess;
  pid: number | undefined;
  /** Resolves with the signal name or exit code once the process has ended. */
  exited: Promise<string>;
  /** The first stdout line `matches` accepts from now on (lines already seen do not count). */
  nextLine(matches: (line: string) => boolean): Promise<string>;
  /** What it printed so far (capped), for error messages. */
  output(): string;
  rssBytes(): number;
  /** SIGTERM and wait: a graceful stop. */
  stop(): Promise<string>;
  /** SIGKILL and wait: no cleanup, as in a crash. */
  kill(): Promise<string>;
}

const MAX_OUTPUT = 50_000;

/**
 * Preloaded into every child: it stops when its parent's IPC channel closes,
 * so no child outlives the test run or demo that started it.
 */
export const DIE_WITH_PARENT = join(__dirname, '..', '..', 'bin', 'die-with-parent.cjs');

/**
 * Runs a Node script as its own OS process and resolves once it prints its
 * ready line, so tests await readiness, never sleep. Rejects, with what it
 * printed, if it exits first.
 */
export async function startNodeProcess(options: StartNodeProcessOptions): Promise<NodeProcess> {
  const child = spawn(process.execPath, ['--require', DIE_WITH_PARENT, options.main], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  // The IPC channel exists only so the child notices when this process ends.
  child.channel?.unref();
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? String(code))),
  );
  let output = '';
  const keep = (text: string) => {
    if (output.length < MAX_OUTPUT) output += text;
  };
  child.stderr?.on('data', (chunk: Buffer) => keep(chunk.toString()));
  const watchers = new Set<(line: string) => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    keep(`${line}\n`);
    for (const watcher of watchers) watcher(line);
  });
  const nextLine = (matches: (line: string) => boolean) =>
    new Promise<string>((resolve, reject) => {
      const watcher = (line: string) => {
        if (!matches(line)) return;
        watchers.delete(watcher);
        resolve(line);
      };
      watchers.add(watcher);
      void exited.then((how) => {
        if (!watchers.delete(watcher)) return;
        reject(new Error(`${options.name} exited (${how}) before the awaited line:\n${output}`));
      });
    });
  const end = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      nextLine(options.readyWhen),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          void end('SIGKILL');
          reject(
            new Error(`${options.name} was not ready within ${readyTimeoutMs} ms:\n${output}`),
          );
        }, readyTimeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return {
    name: options.name,
    child,
    pid: child.pid,
    exited,
    nextLine,
    output: () => output,
    rssBytes: () =>
      Number(
        /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0,
      ) * 1024,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}

/** What a pino JSON line says: its level, message and error, when it has them. */
export interface LogEntry {
  level?: number;
  msg?: string;
  err?: { message?: string };
}

/** A pino JSON line, parsed; undefined for any other line. */
export function logEntry(line: string): LogEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry = JSON.parse(line) as { level?: unknown; msg?: unknown; err?: unknown };
    if (typeof entry !== 'object' || entry === null) return undefined;
    const err = entry.err as { message?: unknown } | null | undefined;
    // Only fields of the types pino writes: a line that merely looks like JSON says nothing else.
    return {
      level: typeof entry.level === 'number' ? entry.level : undefined,
      msg: typeof entry.msg === 'string' ? entry.msg : undefined,
      err:
        typeof err === 'object' && err !== null && typeof err.message === 'string'
          ? { message: err.message }
          : undefined,
    };
  } catch {
    return undefined;
  }
}

/** A pino JSON line's `msg`, or undefined for any other line. */
export function logMessage(line: string): string | undefined {
  return logEntry(line)?.msg;
}
