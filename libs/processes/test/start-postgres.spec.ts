import pino from 'pino';
import {
  isContainerRuntimeReachable,
  queryRows,
  startEmbeddedPostgres,
  startPostgres,
  type StartedPostgres,
} from '../src';

const silent = pino({ level: 'silent' });

const query = queryRows;

/** Proves the database is real and writable. */
async function expectWorkingDatabase(postgres: StartedPostgres): Promise<void> {
  await query(postgres.url, 'CREATE TABLE admissions (id text PRIMARY KEY, ward text NOT NULL)');
  await query(postgres.url, "INSERT INTO admissions VALUES ('A-1', 'CARD-4B')");
  await expect(query(postgres.url, 'SELECT id, ward FROM admissions')).resolves.toEqual([
    { id: 'A-1', ward: 'CARD-4B' },
  ]);
}

describe('testing/startPostgres', () => {
  it('embedded mode gives a working database and stops the server', async () => {
    const postgres = await startPostgres({
      env: { POSTGRES_TEST_MODE: 'embedded' },
      logger: silent,
    });
    expect(postgres.mode).toBe('embedded');
    await expectWorkingDatabase(postgres);
    await postgres.stop();
    await expect(query(postgres.url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('external mode gives each caller its own database on TEST_DATABASE_URL and drops it', async () => {
    const server = await startEmbeddedPostgres();
    try {
      const env = { TEST_DATABASE_URL: server.url };
      const first = await startPostgres({ env, logger: silent });
      const second = await startPostgres({ env, logger: silent });
      expect(first.mode).toBe('external');
      expect(first.url).not.toBe(second.url);
      await expectWorkingDatabase(first);
      await expectWorkingDatabase(second);

      const databaseName = new URL(first.url).pathname.slice(1);
      await first.stop();
      await second.stop();
      await expect(
        query(server.url, `SELECT 1 FROM pg_database WHERE datname = '${databaseName}'`),
      ).resolves.toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('auto mode uses testcontainers where a container runtime answers, embedded elsewhere', async () => {
    const runtime = await isContainerRuntimeReachable();
    const postgres = await startPostgres({ env: { POSTGRES_TEST_MODE: 'auto' }, logger: silent });
    try {
      expect(postgres.mode).toBe(runtime ? 'testcontainers' : 'embedded');
      await expectWorkingDatabase(postgres);
    } finally {
      await postgres.stop();
    }
  });

  it('logs which mode it used', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const postgres = await startPostgres({ env: { POSTGRES_TEST_MODE: 'embedded' }, logger });
    await postgres.stop();
    expect(lines.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({ mode: 'embedded', msg: 'test Postgres ready (embedded)' }),
    );
  });
});
