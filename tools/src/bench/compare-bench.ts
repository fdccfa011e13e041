// The same workload on our broker, Redis Streams consumer groups and NATS
// JetStream, in one run on one machine: 300-byte records, produce throughput
// (acknowledged by the server), consume throughput (a group consumer that
// acknowledges), and end-to-end latency at a fixed offered rate. Each peer
// runs twice: driven the way a typical client does it, and at its best the
// way its experts drive it. Every row says what an acknowledgement promises,
// so rows are compared at equal durability. Redis and NATS run only where
// Debian's redis-server and nats-server are installed; the bench starts them
// on loopback itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BrokerConnection, Consumer, Producer } from '@hospital/broker-client';
import { findFreePort, startBroker, type BrokerProcess } from '@hospital/processes';
import { Kafka, logLevel } from 'kafkajs';

/** What an acknowledgement promises, strongest first. */
export type Promised = 'fsync' | 'os';

export interface SystemResult {
  system: string;
  /** 'typical': the simplest client calls; 'best': driven the way its experts drive it. */
  client: 'typical' | 'best';
  promised: Promised;
  produceRecordsPerSec: number;
  consumeRecordsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  note: string;
}

/** What each system under test must do; records carry their send time in their first 8 bytes. */
interface System {
  name: string;
  client: 'typical' | 'best';
  promised: Promised;
  note: string;
  /** Sends all, resolving once every record is acknowledged by the server. */
  produce(records: Buffer[]): Promise<void>;
  /** Starts a group consumer that acknowledges what it gets; `onRecord` sees each payload. */
  consume(onRecord: (payload: Buffer) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

const CHUNK = 1_000;
/** Partitions, streams or subjects the load is spread over, where a row spreads it. */
const LANES = 4;
/** Pipelines of CHUNK commands a "best" Redis client keeps in flight. */
const PIPELINES = 8;

/** Sends the records in chunks of CHUNK, all at once; resolves once every chunk is acknowledged. */
async function inChunks(records: Buffer[], send: (chunk: Buffer[]) => Promise<unknown>) {
  const sends: Promise<unknown>[] = [];
  for (let start = 0; start < records.length; start += CHUNK)
    sends.push(send(records.slice(start, start + CHUNK)));
  await Promise.all(sends);
}

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

async function hospitalBroker(level: Promised): Promise<System> {
  const broker = await startBroker({
    env: { BROKER_TOPICS: `bench.compare:${LANES}`, BROKER_DURABILITY: level },
  });
  const connection = new BrokerConnection({ broker: broker.address, clientId: 'bench' });
  const producer = new Producer(connection);
  let groups = 0;
  return {
    name: `hospital broker (${level})`,
    client: 'best',
    promised: level,
    note:
      level === 'fsync'
        ? `${LANES} partitions, acks=all, fsync before the acknowledgement (adaptive group commit), our Producer and Consumer`
        : `${LANES} partitions, acks=all, in the page cache at the acknowledgement, fsync every 1 s, our Producer and Consumer`,
    produce: (records) =>
      inChunks(records, (chunk) =>
        producer.send({ topic: 'bench.compare', messages: chunk.map((value) => ({ value })) }),
      ),
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
        partitionsConsumedConcurrently: LANES,
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

/** Our broker with its Kafka listener on, at fsync: the same log and groups as the gRPC rows. */
async function brokerWithKafkaListener(): Promise<BrokerProcess & { kafkaAddress: string }> {
  const broker = await startBroker({
    env: {
      BROKER_TOPICS: `bench.compare:${LANES}`,
      BROKER_DURABILITY: 'fsync',
      BROKER_KAFKA_PORT: '0',
    },
  });
  if (!broker.kafkaAddress) throw new Error('the broker did not report its Kafka listener');
  return broker as BrokerProcess & { kafkaAddress: string };
}

/**
 * Our broker over the Kafka protocol, driven by KafkaJS as its users drive it:
 * a producer sending chunks of 1,000 with acks=all, all in flight at once (it
 * has no linger of its own), and a group consumer with eachBatch over the
 * partitions at once. The gap to the gRPC row is KafkaJS plus our edge
 * transcoding of record batches (measured on its own in the broker bench).
 */
async function hospitalOverKafkaJs(): Promise<System> {
  const broker = await brokerWithKafkaListener();
  const kafka = new Kafka({
    clientId: 'bench',
    brokers: [broker.kafkaAddress],
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  let groups = 0;
  return {
    name: 'hospital broker over Kafka (fsync), KafkaJS',
    client: 'typical',
    promised: 'fsync',
    note: `${LANES} partitions, acks=all, fsync before the acknowledgement; KafkaJS 2.2.4 on our Kafka listener (Produce v7, Fetch v11)`,
    produce: (records) =>
      inChunks(records, (chunk) =>
        producer.send({
          topic: 'bench.compare',
          acks: -1,
          messages: chunk.map((value) => ({ value })),
        }),
      ),
    async consume(onRecord) {
      const consumer = kafka.consumer({
        groupId: `bench-kafkajs-${++groups}`,
        maxWaitTimeInMs: 500,
        allowAutoTopicCreation: false,
      });
      await consumer.connect();
      await consumer.subscribe({ topics: ['bench.compare'], fromBeginning: false });
      // The first fetch comes after the member has its partitions and their latest offsets.
      let fetching = false;
      consumer.on(consumer.events.FETCH, () => (fetching = true));
      await consumer.run({
        partitionsConsumedConcurrently: LANES,
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) onRecord(message.value ?? Buffer.alloc(0));
        },
      });
      await until(() => fetching, 30_000, 'the KafkaJS consumer to join and fetch');
      return () => consumer.disconnect();
    },
    async close() {
      await producer.disconnect();
      await broker.stop();
      broker.cleanup();
    },
  };
}

/**
 * Our broker over the Kafka protocol, driven by @platformatic/kafka as its
 * README drives it: a producer sending chunks of 1,000 with acks=all, all in
 * flight at once, and a group consumer stream with autocommit. It speaks only
 * Kafka's flexible versions, so this row measures that side of the listener
 * (Fetch v12, compact types and tagged fields).
 */
async function hospitalOverPlatformatic(): Promise<System> {
  const { Consumer: PlatformaticConsumer, Producer: PlatformaticProducer } =
    await import('@platformatic/kafka');
  const broker = await brokerWithKafkaListener();
  const producer = new PlatformaticProducer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: [broker.kafkaAddress],
    acks: -1,
  });
  let groups = 0;
  return {
    name: 'hospital broker over Kafka (fsync), @platformatic/kafka',
    client: 'typical',
    promised: 'fsync',
    note: `${LANES} partitions, acks=all, fsync before the acknowledgement; @platformatic/kafka 1.35 on our Kafka listener (Produce v7, Fetch v12, flexible versions)`,
    produce: (records) =>
      inChunks(records, (chunk) =>
        producer.send({ messages: chunk.map((value) => ({ topic: 'bench.compare', value })) }),
      ),
    async consume(onRecord) {
      const consumer = new PlatformaticConsumer({
        clientId: 'bench-platformatic-consumer',
        groupId: `bench-platformatic-${++groups}`,
        bootstrapBrokers: [broker.kafkaAddress],
        maxWaitTime: 500,
      });
      const stream = await consumer.consume({
        topics: ['bench.compare'],
        mode: 'latest',
        autocommit: true,
      });
      // A first fetch answered means the member has its partitions and their latest offsets.
      let fetched = false;
      stream.once('fetch', () => (fetched = true));
      stream.on('data', (message: { value: Buffer | undefined }) =>
        onRecord(message.value ?? Buffer.alloc(0)),
      );
      await until(() => fetched, 30_000, 'the @platformatic/kafka consumer to join and fetch');
      return async () => {
        await stream.close();
        await consumer.close();
      };
    },
    async close() {
      await producer.close();
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

async function stopServer(server: ChildProcess, dir: string): Promise<void> {
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
}

interface RedisRow {
  client: 'typical' | 'best';
  /** Redis's appendfsync: 'always' fsyncs before replying, 'everysec' once a second. */
  appendfsync: 'always' | 'everysec';
}

type StreamAnswer =
  | {
      name: string | Buffer;
      messages: { id: string | Buffer; message: { v: string | Buffer } }[];
    }[]
  | null;

async function redisStreams({ client: style, appendfsync }: RedisRow): Promise<System | undefined> {
  if (!existsSync('/usr/bin/redis-server')) return undefined;
  const { createClient, RESP_TYPES } = await import('redis');
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
      appendfsync,
    ],
    /Ready to accept connections/,
  );
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  await client.connect();
  const version = (await client.info('server')).match(/redis_version:(\S+)/)?.[1];
  const best = style === 'best';
  // At its best: one stream per lane, Buffer values end to end, deep pipelines.
  const streams = best ? Array.from({ length: LANES }, (_, lane) => `bench-${lane}`) : ['bench'];
  let sent = 0;
  let groups = 0;
  return {
    name: `Redis Streams (${appendfsync})`,
    client: style,
    promised: appendfsync === 'always' ? 'fsync' : 'os',
    note: best
      ? `redis-server ${version}, ${LANES} streams, appendfsync ${appendfsync}, XADD in pipelines of ${CHUNK}, ${PIPELINES} in flight, Buffer values, XREADGROUP over all streams COUNT 10000`
      : `redis-server ${version}, one stream, appendfsync ${appendfsync}, XADD pipelined in chunks of ${CHUNK}, string values`,
    async produce(records) {
      if (best) {
        // MULTI-less pipelines of CHUNK XADDs, PIPELINES of them in flight: one promise per pipeline.
        const inFlight: Promise<unknown>[] = [];
        for (let start = 0; start < records.length; start += CHUNK) {
          const pipeline = client.multi();
          for (const value of records.slice(start, start + CHUNK))
            pipeline.xAdd(streams[sent++ % streams.length], '*', { v: value });
          inFlight.push(pipeline.execAsPipeline());
          if (inFlight.length >= PIPELINES) await inFlight.shift();
        }
        await Promise.all(inFlight);
        return;
      }
      for (let start = 0; start < records.length; start += CHUNK)
        await Promise.all(
          records
            .slice(start, start + CHUNK)
            .map((value) => client.xAdd('bench', '*', { v: value.toString('latin1') })),
        );
    },
    async consume(onRecord) {
      const group = `bench-${++groups}`;
      for (const stream of streams)
        await client.xGroupCreate(stream, group, '$', { MKSTREAM: true });
      const reader = best
        ? client.duplicate().withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })
        : client.duplicate();
      await reader.connect();
      let running = true;
      const loop = (async () => {
        while (running) {
          const answer = (await reader.xReadGroup(
            group,
            'c1',
            streams.map((key) => ({ key, id: '>' })),
            { COUNT: best ? 10_000 : CHUNK, BLOCK: 100 },
          )) as StreamAnswer;
          for (const stream of answer ?? []) {
            if (stream.messages.length === 0) continue;
            for (const message of stream.messages)
              onRecord(
                typeof message.message.v === 'string'
                  ? Buffer.from(message.message.v, 'latin1')
                  : message.message.v,
              );
            const acked = reader.xAck(
              stream.name.toString(),
              group,
              stream.messages.map((message) => message.id.toString()),
            );
            // At its best the acknowledgement rides the pipeline with the next read.
            if (!best) await acked;
          }
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
      await stopServer(server, dir);
    },
  };
}

async function natsJetStream(style: 'typical' | 'best'): Promise<System | undefined> {
  const binary = ['/usr/sbin/nats-server', '/usr/bin/nats-server'].find((path) => existsSync(path));
  if (!binary) return undefined;
  const nats = await import('nats');
  const dir = mkdtempSync(join(tmpdir(), 'bench-nats-'));
  const port = await findFreePort();
  const server = await startServer(
    binary,
    ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir],
    /Server is ready/,
  );
  const connection = await nats.connect({ servers: `127.0.0.1:${port}` });
  const manager = await connection.jetstreamManager();
  const best = style === 'best';
  // At its best: a stream per lane (each stream is served on its own), async publish with a window.
  const lanes = best ? LANES : 1;
  const streamOf = (lane: number) => (best ? `BENCH${lane}` : 'BENCH');
  const subjectOf = (lane: number) => (best ? `bench.${lane}` : 'bench');
  for (let lane = 0; lane < lanes; lane++)
    await manager.streams.add({
      name: streamOf(lane),
      subjects: [subjectOf(lane)],
      storage: nats.StorageType.File,
    });
  const js = connection.jetstream();
  let sent = 0;
  let groups = 0;
  return {
    name: 'NATS JetStream',
    client: style,
    promised: 'os',
    note: best
      ? `nats-server ${connection.info?.version}, ${lanes} file-backed streams, core publish with one acknowledged JetStream publish per stream closing each ${CHUNK}, pull consumers with AckAll every 256 messages; acknowledged once written to the OS (2.9 has no fsync-before-ack setting)`
      : `nats-server ${connection.info?.version}, one file-backed stream, publish acknowledged in chunks of ${CHUNK}, every message acked; acknowledged once written to the OS`,
    async produce(records) {
      if (best) {
        // Core publishes, each lane's run closed by one acknowledged JetStream
        // publish: a stream stores a connection's messages in order, so its
        // acknowledgement covers everything published before it.
        for (let start = 0; start < records.length; start += CHUNK) {
          const chunk = records.slice(start, start + CHUNK);
          const barriers = new Map<number, Buffer>();
          for (const value of chunk) {
            const lane = sent++ % lanes;
            const previous = barriers.get(lane);
            if (previous) connection.publish(subjectOf(lane), previous);
            barriers.set(lane, value);
          }
          await Promise.all(
            [...barriers].map(([lane, value]) => js.publish(subjectOf(lane), value)),
          );
        }
        return;
      }
      for (let start = 0; start < records.length; start += CHUNK)
        await Promise.all(
          records.slice(start, start + CHUNK).map((value) => js.publish('bench', value)),
        );
    },
    async consume(onRecord) {
      const durable = `bench-${++groups}`;
      const loops: Promise<void>[] = [];
      const iterators: { close(): Promise<void | Error> }[] = [];
      for (let lane = 0; lane < lanes; lane++) {
        await manager.consumers.add(streamOf(lane), {
          durable_name: durable,
          ack_policy: best ? nats.AckPolicy.All : nats.AckPolicy.Explicit,
          deliver_policy: nats.DeliverPolicy.New,
        });
        const consumer = await js.consumers.get(streamOf(lane), durable);
        const messages = await consumer.consume({ max_messages: best ? 10_000 : CHUNK });
        iterators.push(messages);
        loops.push(
          (async () => {
            let unacked = 0;
            for await (const message of messages) {
              onRecord(Buffer.from(message.data));
              if (!best || ++unacked % 256 === 0) message.ack();
            }
          })(),
        );
      }
      return async () => {
        await Promise.all(iterators.map((messages) => messages.close()));
        await Promise.all(loops);
      };
    },
    async close() {
      await connection.drain();
      await stopServer(server, dir);
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
    client: system.client,
    promised: system.promised,
    produceRecordsPerSec: Math.round(count / (produceMs / 1_000)),
    consumeRecordsPerSec: Math.round(count / (consumeMs / 1_000)),
    latencyP50Ms: Number(percentile(sorted, 50).toFixed(2)),
    latencyP99Ms: Number(percentile(sorted, 99).toFixed(2)),
    note: system.note,
  };
}

/** The rows, in the order they run. */
const SYSTEMS: { label: string; start(): Promise<System | string | undefined> }[] = [
  { label: 'hospital broker (fsync)', start: () => hospitalBroker('fsync') },
  { label: 'hospital broker (os)', start: () => hospitalBroker('os') },
  { label: 'hospital broker over Kafka, KafkaJS', start: hospitalOverKafkaJs },
  { label: 'hospital broker over Kafka, @platformatic/kafka', start: hospitalOverPlatformatic },
  {
    label: 'Redis Streams, typical client',
    start: () => redisStreams({ client: 'typical', appendfsync: 'everysec' }),
  },
  {
    label: 'Redis Streams at its best (everysec)',
    start: () => redisStreams({ client: 'best', appendfsync: 'everysec' }),
  },
  {
    label: 'Redis Streams at its best (always)',
    start: () => redisStreams({ client: 'best', appendfsync: 'always' }),
  },
  { label: 'NATS JetStream, typical client', start: () => natsJetStream('typical') },
  { label: 'NATS JetStream at its best', start: () => natsJetStream('best') },
];

/** Every installed system, one after another (never at once: 2 cores). */
export async function compareSystems(options: {
  count: number;
  size: number;
  rate: number;
  seconds: number;
  /** Only the rows whose label contains this. */
  only?: string;
  log(line: string): void;
}): Promise<SystemResult[]> {
  const results: SystemResult[] = [];
  for (const { label, start } of SYSTEMS) {
    if (options.only && !label.includes(options.only)) continue;
    const system = await start();
    if (system === undefined || typeof system === 'string') {
      options.log(`compare: skipping ${label} (${system ?? 'server not installed'})`);
      continue;
    }
    options.log(
      `compare: ${label}: ${options.count} × ${options.size} B, then ${options.rate}/s for ${options.seconds} s ...`,
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

export interface CompareRatio {
  promised: Promised;
  ours: string;
  bestPeer: string;
  consumeRatio: number;
  latencyP50Ratio: number;
}

/**
 * Ours against the best peer row that promises as much or more: at fsync
 * only fsync rows qualify; at os, every row does.
 */
export function compareRatios(results: SystemResult[]): CompareRatio[] {
  const ratios: CompareRatio[] = [];
  for (const ours of results.filter((result) => result.system.startsWith('hospital'))) {
    const peers = results.filter(
      (result) =>
        !result.system.startsWith('hospital') &&
        (ours.promised === 'os' || result.promised === 'fsync'),
    );
    if (peers.length === 0) continue;
    const best = peers.reduce((a, b) => (b.consumeRecordsPerSec > a.consumeRecordsPerSec ? b : a));
    const fastest = peers.reduce((a, b) => (b.latencyP50Ms < a.latencyP50Ms ? b : a));
    ratios.push({
      promised: ours.promised,
      ours: ours.system,
      bestPeer: `${best.system}, ${best.client}`,
      consumeRatio: Number((ours.consumeRecordsPerSec / best.consumeRecordsPerSec).toFixed(2)),
      latencyP50Ratio: Number((ours.latencyP50Ms / fastest.latencyP50Ms).toFixed(2)),
    });
  }
  return ratios;
}

const label = (result: SystemResult) =>
  result.system.startsWith('hospital') ? result.system : `${result.system}, ${result.client}`;

/** Throughput and latency side by side, as a self-contained SVG. */
export function compareChart(results: SystemResult[]): string {
  const panels = [
    { title: 'produce (records/s)', value: (r: SystemResult) => r.produceRecordsPerSec },
    { title: 'consume (records/s)', value: (r: SystemResult) => r.consumeRecordsPerSec },
    { title: 'latency p50 (ms)', value: (r: SystemResult) => r.latencyP50Ms },
    { title: 'latency p99 (ms)', value: (r: SystemResult) => r.latencyP99Ms },
  ];
  const colorOf = (result: SystemResult) => {
    if (result.system.includes('over Kafka')) return '#7b3fb0';
    if (result.system.startsWith('hospital'))
      return result.promised === 'fsync' ? '#1d3f9e' : '#5b86e5';
    if (result.system.startsWith('Redis'))
      return result.client === 'typical'
        ? '#f0a0a0'
        : result.promised === 'fsync'
          ? '#8e1c1c'
          : '#c62f2f';
    return result.client === 'typical' ? '#9fd8b5' : '#1b8a4b';
  };
  const width = 300;
  const height = 220;
  const bar = Math.min(50, Math.floor((width - 20) / Math.max(results.length, 1)) - 4);
  const parts: string[] = [];
  panels.forEach((panel, index) => {
    const x0 = 20 + index * (width + 20);
    const max = Math.max(...results.map(panel.value), 1);
    parts.push(`<text x="${x0}" y="20" font-size="13" font-weight="600">${panel.title}</text>`);
    results.forEach((result, position) => {
      const value = panel.value(result);
      const barHeight = (value / max) * (height - 60);
      const x = x0 + 10 + position * (bar + 4);
      const y = height - 20 - barHeight;
      parts.push(
        `<rect x="${x}" y="${y}" width="${bar}" height="${barHeight}" fill="${colorOf(result)}"/>`,
      );
      parts.push(
        `<text x="${x + bar / 2}" y="${y - 4}" font-size="9" text-anchor="middle">${value.toLocaleString('en-US')}</text>`,
      );
    });
  });
  results.forEach((result, index) => {
    const x = 20 + (index % 4) * 320;
    const y = height + 8 + Math.floor(index / 4) * 18;
    parts.push(
      `<rect x="${x}" y="${y}" width="10" height="10" fill="${colorOf(result)}"/><text x="${x + 15}" y="${y + 9}" font-size="12">${label(result)}: acknowledged = ${result.promised === 'fsync' ? 'on disk' : 'in the OS'}</text>`,
    );
  });
  const rows = Math.ceil(results.length / 4);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${20 + panels.length * (width + 20)}" height="${height + 14 + rows * 18}" font-family="system-ui, sans-serif">${parts.join('')}</svg>\n`;
}
