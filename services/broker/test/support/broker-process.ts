import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const MAIN = join(__dirname, '..', '..', 'dist', 'main.js');

export interface BrokerProcess {
  child: ChildProcess;
  /** Resolves with the exit code or signal once the process has ended. */
  exited: Promise<string>;
}

/**
 * Runs the built broker (`dist/main.js`) as a child process and resolves once
 * it logs that it is listening, so tests await readiness instead of sleeping.
 */
export async function startBrokerProcess(env: NodeJS.ProcessEnv): Promise<BrokerProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? String(code))),
  );
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      output += `${line}\n`;
      if (line.includes('broker listening')) resolve();
    });
    void exited.then((how) =>
      reject(new Error(`broker exited (${how}) before listening:\n${output}`)),
    );
  });
  return { child, exited };
}
