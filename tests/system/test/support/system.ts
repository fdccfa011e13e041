import { createHash } from 'node:crypto';
import { Admin, BrokerConnection } from '@hospital/broker-client';
import { serviceUrl, type ServiceDatabase } from '@hospital/db';
import { type IncomingRecord } from '@hospital/proto';
import {
  findFreePort,
  startBroker,
  startPostgres,
  startService,
  type BrokerProcess,
  type NodeProcess,
  type ServiceName,
  type StartedPostgres,
} from '@hospital/processes';
import { isCaughtUp, readPartition } from '@hospital/testing';

export type ConsumerService = Exclude<ServiceName, 'checkout'>;
export const CONSUMERS: ConsumerService[] = ['billing', 'housekeeping', 'pharmacy'];

export const ROLES: { [service in ConsumerService]: ServiceDatabase } = {
  billing: { schema: 'billing', role: 'billing_svc', password: 'billing-pw' },
  housekeeping: { schema: 'housekeeping', role: 'housekeeping_svc', password: 'housekeeping-pw' },
  pharmacy: { schema: 'pharmacy', role: 'pharmacy_svc', password: 'pharmacy-pw' },
};

/** How the services reach the broker: its gRPC API, or its Kafka listener through KafkaJS. */
export type BrokerEnv = { [name: string]: string };

export const brokerEnv = (
  protocol: 'grpc' | 'kafka',
  broker: { address: string; kafkaAddress: string | undefined },
): BrokerEnv =>
  protocol === 'kafka'
    ? { BROKER_PROTOCOL: 'kafka', KAFKA_BROKERS: broker.kafkaAddress as string }
    : { BROKER_ADDRESS: broker.address };

export const TOPIC = 'patient.checkout';
export const DLQ = 'patient.checkout.dlq';

/** One real Postgres and one broker serving the hospital's topics: what every system test stands on. */
export interface Platform {
  postgres: StartedPostgres;
  broker: BrokerProcess;
  stop(): Promise<void>;
}

/**
 * Starts Postgres and the broker side by side; `brokerEnv` adds to the
 * broker's settings (an admin token, the Kafka listener).
 */
export async function startPlatform(brokerEnv: { [name: string]: string }): Promise<Platform> {
  const [postgres, broker] = await Promise.allSettled([
    startPostgres(),
    startBroker({
      env: {
        BROKER_TOPICS: `${TOPIC}:4,${DLQ}:1`,
        BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '300',
        ...brokerEnv,
      },
    }),
  ]);
  if (postgres.status === 'rejected' || broker.status === 'rejected') {
    // The one that started does not outlive the failed setup.
    if (broker.status === 'fulfilled') {
      await broker.value.stop();
      broker.value.cleanup();
    }
    if (postgres.status === 'fulfilled') await postgres.value.stop();
    throw [postgres, broker].flatMap((result) =>
      result.status === 'rejected' ? [result.reason as Error] : [],
    )[0];
  }
  return {
    postgres: postgres.value,
    broker: broker.value,
    async stop() {
      await broker.value.stop();
      broker.value.cleanup();
      await postgres.value.stop();
    },
  };
}

export interface Replica {
  service: ConsumerService;
  name: string;
  port: number;
  process: NodeProcess;
}

/**
 * Starts one replica of a consumer service as its own OS process. Its
 * database sessions carry the replica's name as application_name, so a test
 * can see in pg_stat_activity when that replica is inside a transaction.
 */
export async function startReplica(
  service: ConsumerService,
  name: string,
  adminUrl: string,
  broker: BrokerEnv,
): Promise<Replica> {
  const url = new URL(serviceUrl(adminUrl, ROLES[service]));
  url.searchParams.set('application_name', name);
  const prefix = service.toUpperCase();
  // A free port can be taken by another process (a container's published
  // port, say) before the service binds it: then try another one.
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    try {
      const child = await startService(
        service,
        {
          [`${prefix}_DATABASE_URL`]: url.toString(),
          [`${prefix}_PORT`]: String(port),
          ...broker,
          SESSION_TIMEOUT_MS: '3000',
          HEARTBEAT_INTERVAL_MS: '500',
        },
        name,
      );
      return { service, name, port, process: child };
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}

/** A counter from a replica's Prometheus /metrics. */
export async function metric(replica: Replica, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${replica.port}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}

/**
 * Waits for a condition that no event announces (another process's progress),
 * checking it every `everyMs`; fails with `what` after `timeoutMs`.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  { timeoutMs = 60_000, everyMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const timedOut = () => new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  for (;;) {
    // A check that never settles (a socket nobody answers) fails at the deadline too.
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timedOut()), Math.max(0, deadline - Date.now()));
      }),
    ]).finally(() => clearTimeout(timer));
    if (result !== undefined && result !== false) return result;
    if (Date.now() > deadline) throw timedOut();
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** True once the group has committed the end of every partition of the topic. */
export const caughtUp = (admin: Admin, groupId: string, topic: string) =>
  isCaughtUp(admin, groupId, topic);

/** Every record of a topic, partition by partition, in offset order. */
export async function readTopic(
  connection: BrokerConnection,
  topic: string,
): Promise<(IncomingRecord & { partition: number })[]> {
  const described = await new Admin(connection).describeTopic(topic);
  const all: (IncomingRecord & { partition: number })[] = [];
  for (const { partition } of described.partitions) {
    const records = await readPartition(async (fetchOffset) => {
      const response = await connection.call('fetch', {
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 16 << 20,
        topics: [
          { name: topic, partitions: [{ partition, fetchOffset, partitionMaxBytes: 16 << 20 }] },
        ],
      });
      return response.topics[0]?.partitions[0]?.batches ?? [];
    });
    all.push(...records.map((record) => ({ ...record, partition })));
  }
  return all;
}

/** A content checksum: SHA-256 over the sorted row descriptions. */
export function checksum(rows: string[]): { rows: number; sha256: string } {
  const sorted = [...rows].sort();
  return {
    rows: sorted.length,
    sha256: createHash('sha256').update(sorted.join('\n')).digest('hex'),
  };
}
