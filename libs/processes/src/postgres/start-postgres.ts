import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import pino, { type Logger } from 'pino';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded';

/** Where a test database comes from. */
export type PostgresMode = 'external' | 'testcontainers' | 'embedded';

export interface StartedPostgres {
  /** Connection URL of a database that belongs to this caller alone. */
  url: string;
  mode: PostgresMode;
  /** Embedded only: where its binaries and data are and whom it runs as. */
  location?: EmbeddedPostgres['location'];
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Environment to read TEST_DATABASE_URL and POSTGRES_TEST_MODE from. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Image for the testcontainers mode. */
  image?: string;
  /** Answers whether a container runtime (Docker) is reachable. */
  probeContainerRuntime?: () => Promise<boolean>;
}

export const DEFAULT_POSTGRES_IMAGE = 'postgres:17';

/**
 * Decides where the database comes from:
 * TEST_DATABASE_URL when set; else POSTGRES_TEST_MODE when it names a mode;
 * else testcontainers when a container runtime answers, and embedded otherwise.
 */
export async function choosePostgresMode(
  env: NodeJS.ProcessEnv,
  probeContainerRuntime: () => Promise<boolean>,
): Promise<PostgresMode> {
  if (env.TEST_DATABASE_URL) return 'external';
  const forced = env.POSTGRES_TEST_MODE;
  if (forced === 'testcontainers' || forced === 'embedded') return forced;
  if (forced && forced !== 'auto') {
    throw new Error(`POSTGRES_TEST_MODE must be auto, testcontainers or embedded; got "${forced}"`);
  }
  return (await probeContainerRuntime()) ? 'testcontainers' : 'embedded';
}

/** True when testcontainers finds a working container runtime. */
export async function isContainerRuntimeReachable(): Promise<boolean> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/**
 * A fresh Postgres database for a test: from TEST_DATABASE_URL, from a
 * testcontainers PostgreSQL container, or from an embedded server (see
 * choosePostgresMode). Logs which one it used.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<StartedPostgres> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? pino({ name: 'testing.postgres' });
  const mode = await choosePostgresMode(
    env,
    options.probeContainerRuntime ?? isContainerRuntimeReachable,
  );
  const started = Date.now();
  const postgres = await startInMode(mode, env, options.image ?? DEFAULT_POSTGRES_IMAGE);
  logger.info(
    { mode, ms: Date.now() - started, ...postgres.location },
    `test Postgres ready (${mode})`,
  );
  return postgres;
}

async function startInMode(
  mode: PostgresMode,
  env: NodeJS.ProcessEnv,
  image: string,
): Promise<StartedPostgres> {
  switch (mode) {
    case 'external':
      return createScratchDatabase(env.TEST_DATABASE_URL as string, 'external', async () => {});
    case 'testcontainers': {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const container = await new PostgreSqlContainer(image).start();
      return {
        url: container.getConnectionUri(),
        mode,
        stop: async () => {
          await container.stop();
        },
      };
    }
    case 'embedded': {
      const server = await startEmbeddedPostgres();
      const scratch = await createScratchDatabase(server.url, 'embedded', () => server.stop());
      return { ...scratch, location: server.location };
    }
  }
}

/** Creates a uniquely named database on a server, dropped again on stop. */
async function createScratchDatabase(
  serverUrl: string,
  mode: PostgresMode,
  stopServer: () => Promise<void>,
): Promise<StartedPostgres> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    mode,
    async stop() {
      await withClient(serverUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      );
      await stopServer();
    },
  };
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
