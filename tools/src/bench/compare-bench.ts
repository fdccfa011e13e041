// The same workload on our broker, Redis Streams consumer groups and NATS
// JetStream, in one run on one machine: 300-byte records, produce throughput
// (acknowledged by the server), consume throughput (a group consumer that
// acknowledges), and end-to-end latency at a fixed offered rate. Redis and
// NATS run only where Debian's redis-server and nats-server are installed;
// the bench starts them on loopback itself, with durability comparable to our
// broker's default (fsync about every second or better).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Admin, BrokerConnection, Consumer, Producer } from '@hospital/broker-client';
import { rebalanceTriggerLabel } from '@hospital/proto';
import { findFreePort, startBroker } from '@hospital/processes';

export interface SystemResult {
  system: string;
  produceRecordsPerSec: number;
  consumeRecordsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  note: string;
}

/** What each system under test must do; records carry their send time in their first 8 bytes. */
interface System {
  name: string;
  note: string;
  /** Sends all, resolving once every record is acknowledged by the server. */
  produce(records: Buffer[]): Promise<void>;
  /** Starts a group consumer that acknowledges what it gets; `onRecord` sees each payload. */
  consume(onRecord: (payload: Buffer) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const CHUNK = 1_000;

function record(size: number): Buffer {
  const buffer = Buffer.alloc(size, 0x61);
  buffer.writeDoubleLE(performance.now(), 0);
  return buffer;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function ourBroker(): Promise<System> {
  const broker = await startBroker({
    env: { BROKER_TOPICS: 'bench.compare:4' },
  });
  const connection = new BrokerConnection({ broker: broker.address, clientId: 'bench' });
  const producer = new Producer(connection);
  let groups = 0;
  return {
    name: 'hospital broker',
    note: '4 partitions, acks=all, durability interval (fsync every 20 ms)',
    async produce(records) {
      const sends: Promise<unknown>[] = [];
      for (let start = 0; start < records.length; start += CHUNK)
        sends.push(
          producer.send({
            topic: 'bench.compare',
            messages: records.slice(start, start + CHUNK).map((value) => ({ value })),
          }),
        );
      await Promise.all(sends);
    },
    async consume(onRecord) {
      const consumerConnection = new BrokerConnection({
        broker: broker.address,
        clientId: 'bench-consumer',
      });
      const consumer = new Consumer(consumerConnection, {
        groupId: `bench-${++groups}`,
        fromBeginning: false,
      });
      let assigned = false;
      consumer.events.on('consumer.group.join', () => (assigned = true));
      consumer.subscribe({ topics: ['bench.compare'] });
      await consumer.run({
        partitionsConsumedConcurrently: 4,
        eachBatch: async ({ batch, resolveOffset }) => {
          for (const message of batch.messages) onRecord(Buffer.from(message.value ?? []));
          const last = batch.messages.at(-1);
          if (last) resolveOffset(last.offset);
        },
      });
      await until(() => assigned, 30_000, 'the bench consumer to join');
      return async () => {
        await consumer.stop();
        consumerConnection.close();
      };
    },
    async close() {
      await producer.disconnect();
      connection.close();
      await broker.stop();
      broker.cleanup();
    },
  };
}

function startServer(command: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) resolve(child);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`${command} exited (${code}) before it was ready:\n${output}`)),
    );
  });
}

async function redisStreams(): Promise<System | undefined> {
  if (!existsSync('/usr/bin/redis-server')) return undefined;
  const { createClient } = await import('redis');
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  const port = await findFreePort();
  const server = await startServer(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
    ],
    /Ready to accept connections/,
  );
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  await client.connect();
  let groups = 0;
  return {
    name: 'Redis Streams',
    note: `redis-server ${(await client.info('server')).match(/redis_version:(\S+)/)?.[1]}, one stream, appendfsync everysec, XADD pipelined`,
    async produce(records) {
      for (let start = 0; start < records.length; start += CHUNK)
        await Promise.all(
          records
            .slice(start, start + CHUNK)
            .map((value) => client.xAdd('bench', '*', { v: value.toString('latin1') })),
        );
    },
    async consume(onRecord) {
      const group = `bench-${++groups}`;
      await client.xGroupCreate('bench', group, '$', { MKSTREAM: true });
      const reader = client.duplicate();
      await reader.connect();
      let running = true;
      const loop = (async () => {
        while (running) {
          const answer = (await reader.xReadGroup(
            group,
            'c1',
            { key: 'bench', id: '>' },
            { COUNT: CHUNK, BLOCK: 100 },
          )) as { messages: { id: string; message: { v: string } }[] }[] | null;
          const messages = answer?.[0]?.messages ?? [];
          if (messages.length === 0) continue;
          for (const message of messages) onRecord(Buffer.from(message.message.v, 'latin1'));
          await reader.xAck(
            'bench',
            group,
            messages.map((message) => message.id),
          );
        }
      })();
      return async () => {
        running = false;
        await loop;
        await reader.quit();
      };
    },
    async close() {
      await client.quit();
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function natsJetStream(): Promise<System | undefined> {
  if (!existsSync('/usr/sbin/nats-server') && !existsSync('/usr/bin/nats-server')) return undefined;
  const nats = await import('nats');
  const dir = mkdtempSync(join(tmpdir(), 'bench-nats-'));
  const port = await findFreePort();
  const server = await startServer(
    existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : '/usr/bin/nats-server',
    ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir],
    /Server is ready/,
  );
  const connection = await nats.connect({ servers: `127.0.0.1:${port}` });
  const manager = await connection.jetstreamManager();
  await manager.streams.add({ name: 'BENCH', subjects: ['bench'], storage: nats.StorageType.File });
  const js = connection.jetstream();
  let groups = 0;
  return {
    name: 'NATS JetStream',
    note: `nats-server ${connection.info?.version}, one file-backed stream, publish acknowledged`,
    async produce(records) {
      for (let start = 0; start < records.length; start += CHUNK)
        await Promise.all(
          records.slice(start, start + CHUNK).map((value) => js.publish('bench', value)),
        );
    },
    async consume(onRecord) {
      const durable = `bench-${++groups}`;
      await manager.consumers.add('BENCH', {
        durable_name: durable,
        ack_policy: nats.AckPolicy.Explicit,
        deliver_policy: nats.DeliverPolicy.New,
      });
      const consumer = await js.consumers.get('BENCH', durable);
      const messages = await consumer.consume({ max_messages: CHUNK });
      const loop = (async () => {
        for await (const message of messages) {
          onRecord(Buffer.from(message.data));
          message.ack();
        }
      })();
      return async () => {
        await messages.close();
        await loop;
      };
    },
    async close() {
      await connection.drain();
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Produce N records with the consumer off, then consume them; then latency at a fixed rate. */
async function measure(
  system: System,
  count: number,
  size: number,
  rate: number,
  seconds: number,
): Promise<SystemResult> {
  let consumed = 0;
  const stopConsumer = await system.consume(() => consumed++);
  const records = Array.from({ length: count }, () => record(size));
  const produceStart = performance.now();
  await system.produce(records);
  const produceMs = performance.now() - produceStart;
  // The consumer was running all along: time from the first send to the last record consumed.
  await until(() => consumed >= count, 300_000, `${system.name} to consume ${count} records`);
  const consumeMs = performance.now() - produceStart;
  await stopConsumer();

  const latencies: number[] = [];
  const stopLatency = await system.consume((payload) =>
    latencies.push(performance.now() - payload.readDoubleLE(0)),
  );
  const total = rate * seconds;
  const started = performance.now();
  const sends: Promise<void>[] = [];
  for (let sent = 0; sent < total; sent++) {
    const due = started + (sent * 1_000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    sends.push(system.produce([record(size)]));
  }
  await Promise.all(sends);
  await until(
    () => latencies.length >= total,
    60_000,
    `${system.name} to deliver the latency records`,
  );
  await stopLatency();
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    system: system.name,
    produceRecordsPerSec: Math.round(count / (produceMs / 1_000)),
    consumeRecordsPerSec: Math.round(count / (consumeMs / 1_000)),
    latencyP50Ms: Number(percentile(sorted, 50).toFixed(2)),
    latencyP99Ms: Number(percentile(sorted, 99).toFixed(2)),
    note: system.note,
  };
}

/** Every installed system, one after another (never at once: 2 cores). */
export async function compareSystems(options: {
  count: number;
  size: number;
  rate: number;
  seconds: number;
  log(line: string): void;
}): Promise<SystemResult[]> {
  const results: SystemResult[] = [];
  for (const start of [ourBroker, redisStreams, natsJetStream]) {
    const system = await start();
    if (!system) {
      options.log(`compare: skipping ${start.name} (server not installed)`);
      continue;
    }
    options.log(
      `compare: ${system.name}: ${options.count} × ${options.size} B, then ${options.rate}/s for ${options.seconds} s ...`,
    );
    try {
      results.push(
        await measure(system, options.count, options.size, options.rate, options.seconds),
      );
    } finally {
      await system.close();
    }
  }
  return results;
}

/** Throughput and latency side by side, as a self-contained SVG. */
export function compareChart(results: SystemResult[]): string {
  const panels = [
    { title: 'produce (records/s)', value: (r: SystemResult) => r.produceRecordsPerSec },
    { title: 'consume (records/s)', value: (r: SystemResult) => r.consumeRecordsPerSec },
    { title: 'latency p50 (ms)', value: (r: SystemResult) => r.latencyP50Ms },
    { title: 'latency p99 (ms)', value: (r: SystemResult) => r.latencyP99Ms },
  ];
  const colors = ['#2458d6', '#c62f2f', '#1b8a4b'];
  const width = 220;
  const height = 200;
  const parts: string[] = [];
  panels.forEach((panel, index) => {
    const x0 = 20 + index * (width + 20);
    const max = Math.max(...results.map(panel.value), 1);
    parts.push(`<text x="${x0}" y="20" font-size="13" font-weight="600">${panel.title}</text>`);
    results.forEach((result, bar) => {
      const value = panel.value(result);
      const barHeight = (value / max) * (height - 60);
      const x = x0 + 10 + bar * 65;
      const y = height - 20 - barHeight;
      parts.push(
        `<rect x="${x}" y="${y}" width="50" height="${barHeight}" fill="${colors[bar % colors.length]}"/>`,
      );
      parts.push(
        `<text x="${x + 25}" y="${y - 4}" font-size="10" text-anchor="middle">${value.toLocaleString('en-US')}</text>`,
      );
    });
  });
  results.forEach((result, index) =>
    parts.push(
      `<rect x="${20 + index * 170}" y="${height + 5}" width="10" height="10" fill="${colors[index % colors.length]}"/><text x="${35 + index * 170}" y="${height + 14}" font-size="12">${result.system}</text>`,
    ),
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${20 + panels.length * (width + 20)}" height="${height + 30}" font-family="system-ui, sans-serif">${parts.join('')}</svg>\n`;
}

export interface RebalanceSpan {
  generationId: number;
  trigger: string;
  reason: string;
  startMs: number;
  pauseMs: number;
}

/**
 * A rebalance timeline on our broker under load: one consumer, a second joins
 * at 2 s, the first leaves gracefully at 4 s; the group's own record of its
 * rebalances (DescribeGroup), relative to the start.
 */
export async function rebalanceTimeline(): Promise<RebalanceSpan[]> {
  const broker = await startBroker({
    env: { BROKER_TOPICS: 'bench.timeline:4', BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' },
  });
  const connection = new BrokerConnection({ broker: broker.address, clientId: 'timeline' });
  const producer = new Producer(connection);
  const consumers: { consumer: Consumer; connection: BrokerConnection }[] = [];
  const join = async (name: string) => {
    const memberConnection = new BrokerConnection({ broker: broker.address, clientId: name });
    const consumer = new Consumer(memberConnection, {
      groupId: 'timeline',
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 500,
    });
    consumer.subscribe({ topics: ['bench.timeline'] });
    await consumer.run({
      eachBatch: async ({ batch, resolveOffset }) =>
        resolveOffset(batch.messages.at(-1)?.offset ?? 0),
    });
    consumers.push({ consumer, connection: memberConnection });
  };
  const started = Date.now();
  let producing = true;
  const load = (async () => {
    while (producing) {
      await producer.send({
        topic: 'bench.timeline',
        messages: Array.from({ length: 50 }, () => ({ value: record(300) })),
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    await join('consumer-1');
    await new Promise((resolve) => setTimeout(resolve, 2_000 - (Date.now() - started)));
    await join('consumer-2');
    await new Promise((resolve) => setTimeout(resolve, 4_000 - (Date.now() - started)));
    await consumers[0].consumer.stop();
    await new Promise((resolve) => setTimeout(resolve, 6_000 - (Date.now() - started)));
    const group = await new Admin(connection).describeGroup('timeline');
    return group.rebalances
      .filter((record) => record.endedMs > 0)
      .map((record) => ({
        generationId: record.generationId,
        trigger: rebalanceTriggerLabel(record.trigger),
        reason: record.reason,
        startMs: record.startedMs - started,
        pauseMs: record.endedMs - record.startedMs,
      }));
  } finally {
    producing = false;
    await load;
    for (const { consumer, connection: memberConnection } of consumers) {
      await consumer.stop().catch(() => undefined);
      memberConnection.close();
    }
    await producer.disconnect();
    connection.close();
    await broker.stop();
    broker.cleanup();
  }
}

/** The timeline as an SVG: one bar per rebalance on a 0–6 s axis, labelled with its trigger and pause. */
export function timelineChart(spans: RebalanceSpan[]): string {
  const width = 760;
  const scale = (ms: number) => 20 + (ms / 6_000) * (width - 40);
  const rows = spans.map((span, index) => {
    const y = 40 + index * 34;
    const x = scale(span.startMs);
    const barWidth = Math.max(2, scale(span.startMs + span.pauseMs) - x);
    return `<rect x="${x}" y="${y}" width="${barWidth}" height="14" fill="#b26a00"/><text x="${x}" y="${y + 28}" font-size="11">generation ${span.generationId}: ${span.trigger}, paused ${span.pauseMs} ms</text>`;
  });
  const ticks = [0, 1, 2, 3, 4, 5, 6].map(
    (second) =>
      `<line x1="${scale(second * 1_000)}" y1="30" x2="${scale(second * 1_000)}" y2="${44 + spans.length * 34}" stroke="#dde1ea"/><text x="${scale(second * 1_000)}" y="24" font-size="10" text-anchor="middle">${second} s</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${60 + spans.length * 34}" font-family="system-ui, sans-serif"><text x="20" y="12" font-size="12" font-weight="600">rebalances under load: consumer-2 joins at 2 s, consumer-1 leaves at 4 s</text>${ticks.join('')}${rows.join('')}</svg>\n`;
}
