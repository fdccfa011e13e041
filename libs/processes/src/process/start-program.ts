import { join } from 'node:path';
import { startNodeProcess, type NodeProcess } from './node-process';

const RUN_PROGRAM = join(__dirname, '..', '..', 'bin', 'run-program.cjs');

/**
 * Starts a program that is not Node (a JVM, a Go binary) as a NodeProcess:
 * it stops with its parent like every process the tests start, and stop()
 * and kill() reach it. Resolves once it runs; whether it serves yet is for
 * the caller to ask it, as such programs print no ready line of ours.
 */
export function startProgram(
  name: string,
  command: string,
  args: readonly string[],
): Promise<NodeProcess> {
  return startNodeProcess({
    name,
    main: RUN_PROGRAM,
    env: { PROGRAM: JSON.stringify([command, ...args]) },
    readyWhen: (line) => line.startsWith('started '),
  });
}
