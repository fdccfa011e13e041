import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapServiceDatabases, serviceUrl, type ServiceDatabase } from '@hospital/db';
import {
  startBroker,
  startEmbeddedPostgres,
  startService,
  type BrokerProcess,
  type EmbeddedPostgres,
  type NodeProcess,
  type ServiceName,
} from '@hospital/testing';

type ConsumerName = Exclude<ServiceName, 'checkout'>;

export interface DemoOptions {
  /** Where Postgres and the broker keep their data between runs. */
  stateDir: string;
  /** Wipe stateDir first. */
  fresh: boolean;
  /** Simulated checkouts per second. */
  rate: number;
  replicas: { [name in ConsumerName]: number };
  log(line: string): void;
}

/** Fixed, documented ports so the URLs printed stay the same between runs. */
const PORTS = {
  postgres: 5433,
  broker: 9092,
  checkout: 3000,
  billing: 3100,
  housekeeping: 3200,
  pharmacy: 3300,
};

const ROLES: { [name in ConsumerName]: ServiceDatabase } = {
  billing: { schema: 'billing', role: 'billing_svc', password: 'billing-demo' },
  housekeeping: { schema: 'housekeeping', role: 'housekeeping_svc', password: 'housekeeping-demo' },
  pharmacy: { schema: 'pharmacy', role: 'pharmacy_svc', password: 'pharmacy-demo' },
};

/** The broker's admin token, kept in the state folder for the `hospital` CLI. */
export const ADMIN_TOKEN_FILE = 'admin-token';

function adminToken(stateDir: string): string {
  const file = join(stateDir, ADMIN_TOKEN_FILE);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(16).toString('hex');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

export interface RunningDemo {
  stop(): Promise<void>;
}

/**
 * The whole hospital on this machine, each part its own OS process: an
 * embedded Postgres, the broker, checkout with its simulator, and the
 * consumer groups' replicas. Resolves once everything is up; `stop()` stops
 * the services first, then the broker, then Postgres.
 */
export async function runDemo(options: DemoOptions): Promise<RunningDemo> {
  if (options.fresh) rmSync(options.stateDir, { recursive: true, force: true });
  mkdirSync(options.stateDir, { recursive: true });
  const services: NodeProcess[] = [];
  let broker: BrokerProcess | undefined;
  let postgres: EmbeddedPostgres | undefined;
  const stop = async () => {
    await Promise.all(services.map((service) => service.stop()));
    await broker?.stop();
    await postgres?.stop();
  };
  const step = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    options.log(`… ${what}`);
    const result = await run();
    options.log(`✔ ${what} (${Date.now() - started} ms)`);
    return result;
  };
  try {
    postgres = await step(`Postgres on 127.0.0.1:${PORTS.postgres}`, () =>
      startEmbeddedPostgres({ dataDir: join(options.stateDir, 'postgres'), port: PORTS.postgres }),
    );
    const adminUrl = postgres.url;
    await step('schemas and roles billing, housekeeping, pharmacy', () =>
      bootstrapServiceDatabases(adminUrl, Object.values(ROLES)),
    );
    broker = await step(`broker on 127.0.0.1:${PORTS.broker}`, () =>
      startBroker({
        dataDir: join(options.stateDir, 'broker'),
        port: PORTS.broker,
        env: {
          BROKER_TOPICS: 'patient.checkout:4,patient.checkout.dlq:1',
          BROKER_ADMIN_TOKEN: adminToken(options.stateDir),
        },
      }),
    );
    const brokerAddress = broker.address;
    for (const name of ['billing', 'housekeeping', 'pharmacy'] as const) {
      const prefix = name.toUpperCase();
      for (let replica = 1; replica <= options.replicas[name]; replica++) {
        const port = PORTS[name] + replica - 1;
        services.push(
          await step(`${name}-${replica} on http://127.0.0.1:${port}`, () =>
            startService(
              name,
              {
                [`${prefix}_DATABASE_URL`]: serviceUrl(adminUrl, ROLES[name]),
                [`${prefix}_PORT`]: String(port),
                BROKER_ADDRESS: brokerAddress,
              },
              `${name}-${replica}`,
            ),
          ),
        );
      }
    }
    services.push(
      await step(
        `checkout on http://127.0.0.1:${PORTS.checkout}, simulating ${options.rate}/s`,
        () =>
          startService('checkout', {
            CHECKOUT_PORT: String(PORTS.checkout),
            BROKER_ADDRESS: brokerAddress,
            SIMULATOR_RATE: String(options.rate),
            SIMULATOR_SEED: String(Date.now() % 100_000),
          }),
      ),
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}
