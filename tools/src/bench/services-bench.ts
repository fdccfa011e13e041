import { readdirSync, readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { bootstrapServiceDatabases, serviceUrl, type ServiceDatabase } from '@hospital/db';
import {
  findFreePort,
  logMessage,
  startBroker,
  startPostgres,
  startService,
  type BrokerProcess,
  type NodeProcess,
  type StartedPostgres,
} from '@hospital/processes';
import { Client } from 'pg';
import pino from 'pino';
import { checkoutBody, postJson } from '../shared/checkout-requests';

export type ConsumerGroupName = 'billing' | 'housekeeping' | 'pharmacy';
const GROUPS: ConsumerGroupName[] = ['billing', 'housekeeping', 'pharmacy'];
const ROLES: { [group in ConsumerGroupName]: ServiceDatabase } = {
  billing: { schema: 'billing', role: 'billing_svc', password: 'bench' },
  housekeeping: { schema: 'housekeeping', role: 'housekeeping_svc', password: 'bench' },
  pharmacy: { schema: 'pharmacy', role: 'pharmacy_svc', password: 'bench' },
};

export interface ThroughputResult {
  group: ConsumerGroupName;
  checkouts: number;
  checkoutsPerSec: number;
}

export interface LatencyResult {
  ratePerSec: number;
  checkouts: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** POST /checkouts answered 202 (the event acknowledged by the broker, acks=all). */
  acceptedP50Ms: number;
  acceptedP99Ms: number;
  /** CPU used while posting, per process, in % of one core (the machine has 2). */
  cpuPercent: { [process: string]: number };
  /** CPU milliseconds per checkout, per process, while posting (postgres: every postgres process). */
  cpuMsPerCheckout: { [process: string]: number };
}

/** User + system CPU seconds a process has used so far (Linux /proc). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds of every Postgres process (server and backends) on the machine. */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const fields = stat.split(') ')[1].split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

interface System {
  postgres: StartedPostgres;
  broker: BrokerProcess;
  stop(): Promise<void>;
}

async function startSystem(): Promise<System> {
  const [postgres, broker] = await Promise.all([
    startPostgres({ logger: pino({ level: 'silent' }) }),
    startBroker({
      env: {
        BROKER_TOPICS: 'patient.checkout:4,patient.checkout.dlq:1',
        BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        BROKER_DURABILITY: process.env.BENCH_DURABILITY ?? 'fsync',
      },
    }),
  ]);
  await bootstrapServiceDatabases(postgres.url, Object.values(ROLES));
  return {
    postgres,
    broker,
    stop: async () => {
      await broker.stop();
      broker.cleanup();
      await postgres.stop();
    },
  };
}

async function startConsumer(
  system: System,
  group: ConsumerGroupName,
): Promise<{ process: NodeProcess; port: number; readyAt: number }> {
  const port = await findFreePort();
  const prefix = group.toUpperCase();
  const process = await startService(group, {
    [`${prefix}_DATABASE_URL`]: serviceUrl(system.postgres.url, ROLES[group]),
    [`${prefix}_PORT`]: String(port),
    BROKER_ADDRESS: system.broker.address,
  });
  return { process, port, readyAt: performance.now() };
}

async function counter(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Upsert throughput per group: the checkout simulator fills the topic first;
 * then each group, alone on the machine with one replica, consumes it all.
 * The rate counts from the first event the group handled to the last, read
 * from its own /metrics every 50 ms.
 */
export async function measureThroughput(
  checkouts: number,
  progress: (message: string) => void,
): Promise<ThroughputResult[]> {
  const system = await startSystem();
  try {
    progress(`services: the simulator publishes ${checkouts.toLocaleString()} checkouts ...`);
    const checkout = await startService('checkout', {
      CHECKOUT_PORT: String(await findFreePort()),
      BROKER_ADDRESS: system.broker.address,
      SIMULATOR_RATE: '100000',
      SIMULATOR_LIMIT: String(checkouts),
      SIMULATOR_CORRECTIONS: '0.02',
      LOG_LEVEL: 'info',
    });
    await checkout.nextLine((line) => logMessage(line) === 'simulator finished');
    await checkout.stop();
    const results: ThroughputResult[] = [];
    for (const group of GROUPS) {
      progress(`services: ${group} consumes the topic ...`);
      const consumer = await startConsumer(system, group);
      const metric = `${group}_events_consumed_total`;
      // From the first event handled to the last, read every 50 ms; a run too
      // short to see two readings counts from the member's start instead.
      let first: { at: number; consumed: number } = { at: consumer.readyAt, consumed: 0 };
      let seen = false;
      for (;;) {
        const consumed = await counter(consumer.port, metric);
        const at = performance.now();
        if (consumed > 0 && !seen && consumed < checkouts) first = { at, consumed };
        seen ||= consumed > 0;
        if (consumed >= checkouts) {
          results.push({
            group,
            checkouts,
            checkoutsPerSec: Math.round(((consumed - first.consumed) / (at - first.at)) * 1000),
          });
          break;
        }
        await delay(50);
      }
      await consumer.process.stop();
    }
    return results;
  } finally {
    await system.stop();
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * End-to-end latency with every service running: POST /checkouts at a fixed
 * rate (open loop), and for each checkout the time until billing's invoice row
 * is committed. A trigger the bench installs on billing.invoice sends a NOTIFY,
 * which Postgres delivers only when the transaction commits.
 */
export async function measureLatency(
  ratePerSec: number,
  checkouts: number,
  progress: (message: string) => void,
): Promise<LatencyResult> {
  const system = await startSystem();
  const started: NodeProcess[] = [];
  const listener = new Client({ connectionString: system.postgres.url });
  // node:http with keep-alive costs the bench far less CPU than fetch, and the
  // bench shares the 2 cores with everything it measures.
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  try {
    progress('services: starting checkout, billing, housekeeping and pharmacy ...');
    const consumers = await Promise.all(GROUPS.map((group) => startConsumer(system, group)));
    started.push(...consumers.map((consumer) => consumer.process));
    const named: { [name: string]: number | undefined } = { broker: system.broker.child.pid };
    GROUPS.forEach((group, index) => (named[group] = consumers[index].process.child.pid));
    const checkoutPort = await findFreePort();
    started.push(
      await startService('checkout', {
        CHECKOUT_PORT: String(checkoutPort),
        BROKER_ADDRESS: system.broker.address,
      }),
    );
    named.checkout = started.at(-1)?.child.pid;
    await listener.connect();
    await listener.query(`
      CREATE OR REPLACE FUNCTION billing.bench_invoice_committed() RETURNS trigger AS $$
      BEGIN PERFORM pg_notify('invoice_committed', NEW.checkout_id); RETURN NEW; END $$ LANGUAGE plpgsql;
      CREATE TRIGGER bench_invoice_committed AFTER INSERT ON billing.invoice
      FOR EACH ROW EXECUTE FUNCTION billing.bench_invoice_committed();
      LISTEN invoice_committed;`);
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let notified!: () => void;
    const allCommitted = new Promise<void>((resolve) => (notified = resolve));
    listener.on('notification', (message) => {
      const at = performance.now();
      const sent = sentAt.get(message.payload ?? '');
      if (sent === undefined) return;
      latencies.push(at - sent);
      if (latencies.length === checkouts) notified();
    });

    progress(
      `services: POST /checkouts at ${ratePerSec}/s for ${checkouts.toLocaleString()} checkouts ...`,
    );
    const url = new URL(`http://127.0.0.1:${checkoutPort}/checkouts`);

    const failures: string[] = [];
    const accepted: number[] = [];
    const post = async (sequence: number) => {
      const id = `BENCH-${sequence}`;
      const sent = performance.now();
      sentAt.set(id, sent);
      const { status, text } = await postJson(agent, url, checkoutBody(sequence));
      if (status !== 202) failures.push(`${status} ${text}`);
      else accepted.push(performance.now() - sent);
    };
    // Open loop: requests go out on schedule whether or not earlier ones finished.
    const cpuBefore = Object.fromEntries(
      Object.entries(named).map(([name, pid]) => [name, cpuSeconds(pid)]),
    );
    const benchCpuBefore = process.cpuUsage();
    const postgresCpuBefore = postgresCpuSeconds();
    const begin = performance.now();
    const requests: Promise<void>[] = [];
    for (let sequence = 0; sequence < checkouts; sequence++) {
      const due = begin + (sequence * 1000) / ratePerSec;
      const wait = due - performance.now();
      if (wait > 1) await delay(wait);
      requests.push(post(sequence));
    }
    await Promise.all(requests);
    const seconds = (performance.now() - begin) / 1000;
    const used: { [process: string]: number } = {};
    for (const [name, pid] of Object.entries(named)) used[name] = cpuSeconds(pid) - cpuBefore[name];
    used.postgres = postgresCpuSeconds() - postgresCpuBefore;
    const benchCpu = process.cpuUsage(benchCpuBefore);
    used.bench = (benchCpu.user + benchCpu.system) / 1e6;
    const cpuPercent: { [process: string]: number } = {};
    const cpuMsPerCheckout: { [process: string]: number } = {};
    for (const [name, cpu] of Object.entries(used)) {
      cpuPercent[name] = Math.round((cpu / seconds) * 100);
      cpuMsPerCheckout[name] = Math.round((cpu * 1_000 * 100) / checkouts) / 100;
    }
    if (failures.length > 0)
      throw new Error(`${failures.length} checkouts were refused: ${failures[0]}`);
    await allCommitted;
    const sorted = [...latencies].sort((a, b) => a - b);
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
      ratePerSec,
      checkouts,
      p50Ms: round(percentile(sorted, 50)),
      p90Ms: round(percentile(sorted, 90)),
      p99Ms: round(percentile(sorted, 99)),
      maxMs: round(sorted[sorted.length - 1]),
      acceptedP50Ms: round(
        percentile(
          [...accepted].sort((a, b) => a - b),
          50,
        ),
      ),
      acceptedP99Ms: round(
        percentile(
          [...accepted].sort((a, b) => a - b),
          99,
        ),
      ),
      cpuPercent,
      cpuMsPerCheckout,
    };
  } finally {
    agent.destroy();
    await listener.end().catch(() => undefined);
    await Promise.all(started.map((process) => process.stop()));
    await system.stop();
  }
}
