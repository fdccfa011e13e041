import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bootstrapServiceDatabases, serviceUrl, type ServiceDatabase } from '@hospital/db';
import {
  findFreePort,
  findFreePortBlock,
  startBroker,
  startEmbeddedPostgres,
  startService,
  type BrokerProcess,
  type EmbeddedPostgres,
  type NodeProcess,
  type ServiceName,
} from '@hospital/processes';
import { startControlServer, type RunningControlServer } from './control-server';
import { ReplicaSupervisor, type GroupSettings } from './replica-supervisor';

type ConsumerName = Exclude<ServiceName, 'checkout'>;
const CONSUMERS: ConsumerName[] = ['billing', 'housekeeping', 'pharmacy'];

export interface DemoOptions {
  /** Where Postgres and the broker keep their data between runs. */
  stateDir: string;
  /** Wipe stateDir first. */
  fresh: boolean;
  /** Simulated checkouts per second. */
  rate: number;
  replicas: { [name in ConsumerName]: number };
  /** Defaults to DEMO_PORTS; tests pass free ones. */
  ports?: DemoPorts;
  /** Extra environment for the consumer replicas (SESSION_TIMEOUT_MS, say). */
  consumerEnv?: NodeJS.ProcessEnv;
  log(line: string): void;
}

export interface DemoPorts {
  postgres: number;
  broker: number;
  /** The broker's Kafka protocol listener, for Kafka clients (KafkaJS, kcat, Burrow). */
  kafka: number;
  /** The broker's admin HTTP port: the dashboard. */
  dashboard: number;
  /** The replica supervisor's API, behind the dashboard's buttons and `hospital scale|kill|restart`. */
  control: number;
  checkout: number;
  /** Replica n of a group listens on its port + n - 1. */
  billing: number;
  housekeeping: number;
  pharmacy: number;
}

/**
 * Housekeeping rebalances cooperatively (cooperative-sticky) while billing and
 * pharmacy stay eager (range), so the dashboard shows both kinds side by side.
 */
export const DEMO_GROUP_SETTINGS: { [name in ConsumerName]?: GroupSettings } = {
  housekeeping: { assignors: ['cooperative-sticky'] },
};

/** Fixed, documented ports so the URLs printed stay the same between runs. */
export const DEMO_PORTS: DemoPorts = {
  postgres: 5433,
  broker: 9092,
  kafka: 9093,
  dashboard: 8080,
  control: 9094,
  checkout: 3000,
  billing: 3100,
  housekeeping: 3200,
  pharmacy: 3300,
};

/** Free loopback ports for a demo of one's own (tests, chaos), with room for `replicas` per group. */
export async function freeDemoPorts(replicas: number): Promise<DemoPorts> {
  const [postgres, broker, kafka, dashboard, control, checkout, billing, housekeeping, pharmacy] =
    await Promise.all([
      findFreePort(),
      findFreePort(),
      findFreePort(),
      findFreePort(),
      findFreePort(),
      findFreePort(),
      findFreePortBlock(replicas),
      findFreePortBlock(replicas),
      findFreePortBlock(replicas),
    ]);
  return {
    postgres,
    broker,
    kafka,
    dashboard,
    control,
    checkout,
    billing,
    housekeeping,
    pharmacy,
  };
}

/** Most replicas per group; their ports must not reach the next group's. */
const MAX_REPLICAS = 16;

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
  brokerAddress: string;
  /** The Postgres superuser's URL (the services use their own roles). */
  databaseUrl: string;
  dashboardUrl: string;
  controlUrl: string;
  adminToken: string;
  supervisor: ReplicaSupervisor;
  /** SIGKILLs the broker and starts it again on the same port and logs (what `hospital chaos` does). */
  crashAndRestartBroker(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The whole hospital on this machine, each part its own OS process: an
 * embedded Postgres, the broker, checkout with its simulator, and the
 * consumer groups' replicas. Resolves once everything is up; `stop()` stops
 * the services first, then the broker, then Postgres.
 */
export async function runDemo(options: DemoOptions): Promise<RunningDemo> {
  const ports = options.ports ?? DEMO_PORTS;
  if (options.fresh) rmSync(options.stateDir, { recursive: true, force: true });
  mkdirSync(options.stateDir, { recursive: true });
  const token = adminToken(options.stateDir);
  let checkout: NodeProcess | undefined;
  let supervisor: ReplicaSupervisor | undefined;
  let control: RunningControlServer | undefined;
  let broker: BrokerProcess | undefined;
  let postgres: EmbeddedPostgres | undefined;
  const stop = async () => {
    await checkout?.stop();
    await supervisor?.stopAll();
    await control?.close();
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
    postgres = await step(`Postgres on 127.0.0.1:${ports.postgres}`, () =>
      startEmbeddedPostgres({ dataDir: join(options.stateDir, 'postgres'), port: ports.postgres }),
    );
    if (postgres.location.runAs)
      options.log(
        `  Postgres runs as the ${postgres.location.runAs} user from ${postgres.location.binaries}, data in ${postgres.location.dataDir}`,
      );
    const adminUrl = postgres.url;
    await step('schemas and roles billing, housekeeping, pharmacy', () =>
      bootstrapServiceDatabases(adminUrl, Object.values(ROLES)),
    );
    let brokerAddress = '';
    const replicas = new ReplicaSupervisor(
      CONSUMERS.map((name) => ({
        name,
        portOf: (index) => ports[name] + index - 1,
        start: (_index, replica, port, settings) =>
          startService(
            name,
            {
              ...(settings.assignors ? { GROUP_ASSIGNORS: settings.assignors.join(',') } : {}),
              [`${name.toUpperCase()}_DATABASE_URL`]: serviceUrl(adminUrl, ROLES[name]),
              [`${name.toUpperCase()}_PORT`]: String(port),
              BROKER_ADDRESS: brokerAddress,
              CLIENT_ID: replica,
              ...options.consumerEnv,
            },
            replica,
          ),
      })),
      MAX_REPLICAS,
      options.log,
      DEMO_GROUP_SETTINGS,
    );
    supervisor = replicas;
    control = await step(`replica supervisor on http://127.0.0.1:${ports.control}`, () =>
      startControlServer(replicas, { port: ports.control, adminToken: token }),
    );
    const controlUrl = control.url;
    const launchBroker = () =>
      startBroker({
        dataDir: join(options.stateDir, 'broker'),
        port: ports.broker,
        env: {
          BROKER_TOPICS: 'patient.checkout:4,patient.checkout.dlq:1',
          BROKER_ADMIN_TOKEN: token,
          BROKER_HTTP_PORT: String(ports.dashboard),
          BROKER_KAFKA_PORT: String(ports.kafka),
          BROKER_CONTROL_URL: controlUrl,
        },
      });
    broker = await step(
      `broker on 127.0.0.1:${ports.broker} (gRPC) and 127.0.0.1:${ports.kafka} (Kafka protocol), dashboard on http://127.0.0.1:${ports.dashboard}`,
      launchBroker,
    );
    brokerAddress = broker.address;
    await step(
      `consumers: ${CONSUMERS.map((name) => `${name} ×${options.replicas[name]}`).join(', ')}`,
      async () => {
        for (const name of CONSUMERS) replicas.scale(name, options.replicas[name]);
        await replicas.settled();
        const failed = replicas.list().filter((replica) => replica.state !== 'running');
        if (failed.length > 0)
          throw new Error(`${failed.map((replica) => replica.name).join(', ')} did not start`);
      },
    );
    checkout = await step(
      `checkout on http://127.0.0.1:${ports.checkout}, simulating ${options.rate}/s`,
      () =>
        startService('checkout', {
          CHECKOUT_PORT: String(ports.checkout),
          BROKER_ADDRESS: brokerAddress,
          SIMULATOR_RATE: String(options.rate),
          SIMULATOR_SEED: String(Date.now() % 100_000),
        }),
    );
    return {
      brokerAddress,
      databaseUrl: adminUrl,
      dashboardUrl: broker.dashboardUrl,
      controlUrl,
      adminToken: token,
      supervisor: replicas,
      crashAndRestartBroker: async () => {
        await broker?.kill();
        broker = await launchBroker();
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
