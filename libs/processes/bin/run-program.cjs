// Runs a program that is not Node (ZooKeeper's JVM, Burrow) under a Node
// process that the tests start with die-with-parent preloaded, so the
// program cannot outlive the run either: a SIGTERM here, from the parent or
// from die-with-parent, is passed on, and when the program ends this does
// too, with its exit code. Prints "started <pid>" once the program runs.
// Usage: PROGRAM='["java","-cp","…"]' node run-program.cjs
'use strict';
const { spawn } = require('node:child_process');

const [command, ...args] = JSON.parse(process.env.PROGRAM ?? '[]');
if (!command) {
  process.stderr.write('run-program: PROGRAM (a JSON array: command, then arguments) is missing\n');
  process.exit(2);
}
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
child.once('error', (error) => {
  process.stderr.write(`run-program: ${command} did not start: ${error.message}\n`);
  process.exit(127);
});
child.once('spawn', () => process.stdout.write(`started ${child.pid}\n`));
child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
// A SIGKILL of this process cannot be passed on; any other end takes the program along.
process.once('exit', () => {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
