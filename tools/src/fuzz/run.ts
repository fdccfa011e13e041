#!/usr/bin/env node
// `npm run fuzz`: at least 10,000 generated malformed or extreme requests
// against every broker RPC (raw protobuf damage, and valid shapes pushed to
// extremes), the checkout HTTP API, and at least 10,000 Kafka frames against
// the broker's Kafka listener (kafka-fuzz.ts), on a broker and a checkout of
// its own (processes on loopback). Zero crashes and only clear answers pass:
// gRPC statuses other than UNKNOWN and INTERNAL with a message, HTTP 2xx or
// 4xx with a reason, a Kafka answer or a closed connection. Prints a table
// per target; exits 1 on any failure.
import { Agent } from 'node:http';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import * as proto from '@hospital/proto';
import { BrokerService, encodeRecordBatch } from '@hospital/proto';
import { startBroker, startService } from '@hospital/processes';
import { checkoutBody, postJson } from '../shared/checkout-requests';
import { fuzzKafka, type KafkaOutcome } from './kafka-fuzz';
import { damageBytes, mutateLike, Random } from './mutate';

type Method = (typeof BrokerService)[keyof typeof BrokerService];
type Outcome = 'ok' | 'clear error' | 'held (long poll)' | 'unclear' | 'crash';

const GRPC_REQUESTS = Number(process.env.FUZZ_GRPC_REQUESTS ?? 10_000);
const HTTP_REQUESTS = Number(process.env.FUZZ_HTTP_REQUESTS ?? 2_000);
const KAFKA_FRAMES = Number(process.env.FUZZ_KAFKA_FRAMES ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 32);
const ADMIN_TOKEN = 'fuzz-admin-token';
/** RPCs that may hold a call open by design; a client deadline there is not a failure. */
const LONG_POLLS = new Set(['fetch', 'joinGroup', 'syncGroup', 'watchMembership', 'produce']);

const batch = encodeRecordBatch([
  { key: 'P-1', value: 'checkout' },
  { key: null, value: 'x' },
]);
/** Valid-looking requests to push to extremes; every other RPC starts from its defaults. */
const PARTIAL_TEMPLATES: Record<string, object> = {
  createTopic: {
    name: 'fuzz.topic',
    partitions: 2,
    config: { retentionMs: 60_000, retentionBytes: -1, segmentBytes: 1 << 20 },
  },
  createPartitions: { name: 'patient.checkout', totalPartitions: 6 },
  deleteTopic: { name: 'fuzz.topic' },
  describeTopic: { name: 'patient.checkout' },
  produce: {
    topics: [{ name: 'patient.checkout', partitions: [{ partition: 0, batch }] }],
    acks: 1,
    timeoutMs: 500,
  },
  fetch: {
    maxWaitMs: 50,
    minBytes: 1,
    maxBytes: 1 << 20,
    topics: [
      {
        name: 'patient.checkout',
        partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 0 }],
      },
    ],
  },
  listOffsets: {
    topic: 'patient.checkout',
    partitions: [0, 1],
    spec: { spec: { $case: 'latest', value: true } },
  },
  findCoordinator: { key: 'fuzz' },
  joinGroup: {
    groupId: 'fuzz',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 500,
    memberId: '',
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from([0, 1, 2, 3]) }],
    clientId: 'fuzz',
  },
  syncGroup: {
    groupId: 'fuzz',
    generationId: 1,
    memberId: 'fuzz-member',
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [{ memberId: 'fuzz-member', assignment: Buffer.from([0, 1]) }],
  },
  heartbeat: { groupId: 'fuzz', generationId: 1, memberId: 'fuzz-member' },
  watchMembership: { groupId: 'fuzz', memberId: 'fuzz-member', generationId: 1 },
  leaveGroup: { groupId: 'fuzz', members: [{ memberId: 'fuzz-member', reason: 'fuzz' }] },
  offsetCommit: {
    groupId: 'fuzz',
    generationId: -1,
    memberId: '',
    topics: [
      {
        name: 'patient.checkout',
        partitions: [{ partition: 0, committedOffset: 5, metadata: 'fuzz' }],
      },
    ],
  },
  offsetFetch: { groupId: 'fuzz', topics: [{ name: 'patient.checkout', partitions: [0, 1] }] },
  describeGroup: { groupId: 'fuzz' },
  deleteGroup: { groupId: 'fuzz' },
  resetOffsets: {
    groupId: 'fuzz',
    topic: 'patient.checkout',
    partitions: [0],
    target: { target: { $case: 'earliest', value: true } },
    dryRun: true,
  },
};

interface MessageType {
  fromPartial(partial: object): unknown;
}

function templateFor(name: string): unknown {
  const type = (proto as unknown as Record<string, MessageType | undefined>)[
    `${name[0].toUpperCase()}${name.slice(1)}Request`
  ];
  if (!type?.fromPartial) throw new Error(`no request type for ${name}`);
  return type.fromPartial(PARTIAL_TEMPLATES[name] ?? {});
}

class Tally {
  readonly counts = new Map<string, Map<Outcome, number>>();
  readonly examples: string[] = [];

  add(target: string, outcome: Outcome, detail?: string): void {
    const row = this.counts.get(target) ?? new Map<Outcome, number>();
    this.counts.set(target, row);
    row.set(outcome, (row.get(outcome) ?? 0) + 1);
    const seen = this.examples.filter((example) => example.startsWith(outcome)).length;
    if ((outcome === 'unclear' || outcome === 'crash') && seen < 5)
      this.examples.push(`${outcome} ${target}: ${detail ?? ''}`.slice(0, 300));
  }

  total(outcome?: Outcome): number {
    let sum = 0;
    for (const row of this.counts.values())
      for (const [key, value] of row) if (!outcome || key === outcome) sum += value;
    return sum;
  }
}

/** One raw unary (or server-streaming) call with bytes we choose; resolves with how it ended. */
function rawCall(
  client: Client,
  name: string,
  method: Method,
  body: Buffer,
  admin: boolean,
): Promise<[Outcome, string?]> {
  const metadata = new Metadata();
  if (admin) metadata.set('authorization', `Bearer ${ADMIN_TOKEN}`);
  const deadline = Date.now() + (LONG_POLLS.has(name) ? 1_000 : 5_000);
  const classify = (error: ServiceError | null): [Outcome, string?] => {
    if (!error) return ['ok'];
    if (error.code === status.DEADLINE_EXCEEDED && LONG_POLLS.has(name))
      return ['held (long poll)'];
    if (error.code === status.UNAVAILABLE) return ['crash', `UNAVAILABLE: ${error.details}`];
    const clear =
      error.code !== status.UNKNOWN &&
      error.code !== status.INTERNAL &&
      error.details.trim().length > 0;
    return clear ? ['clear error'] : ['unclear', `${status[error.code]}: ${error.details}`];
  };
  const identity = (value: Buffer) => value;
  return new Promise((resolve) => {
    if (method.responseStream) {
      const stream = client.makeServerStreamRequest(
        method.path,
        identity,
        identity,
        body,
        metadata,
        { deadline },
      );
      let settled = false;
      const finish = (result: [Outcome, string?]) => {
        if (settled) return;
        settled = true;
        stream.cancel();
        resolve(result);
      };
      stream.on('data', () => finish(['ok']));
      stream.on('error', (error: ServiceError) =>
        finish(error.code === status.CANCELLED ? ['ok'] : classify(error)),
      );
      stream.on('end', () => finish(['ok']));
      return;
    }
    client.makeUnaryRequest(
      method.path,
      identity,
      identity,
      body,
      metadata,
      { deadline },
      (error) => resolve(classify(error)),
    );
  });
}

async function pool(count: number, work: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

function progress(label: string, done: number, total: number): void {
  if (done % 1_000 === 0 || done === total) process.stdout.write(`  ${label}: ${done}/${total}\n`);
}

async function fuzzBroker(address: string, tally: Tally, random: Random): Promise<void> {
  const client = new Client(address, credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 << 20,
  });
  const only = process.env.FUZZ_ONLY?.split(',');
  const methods = (Object.entries(BrokerService) as [string, Method][]).filter(
    ([name]) => !only || only.includes(name),
  );
  const valid = new Map(
    methods.map(([name, method]) => [
      name,
      method.requestSerialize(templateFor(name) as never) as Buffer,
    ]),
  );
  let done = 0;
  await pool(GRPC_REQUESTS, async (index) => {
    const [name, method] = methods[index % methods.length];
    let body: Buffer;
    if (random.chance(0.4)) body = damageBytes(valid.get(name)!, random);
    else {
      try {
        body = method.requestSerialize(mutateLike(templateFor(name), random) as never) as Buffer;
      } catch {
        body = damageBytes(valid.get(name)!, random); // a shape protobufjs refuses to encode: send damage instead
      }
    }
    const [outcome, detail] = await rawCall(client, name, method, body, random.chance(0.5));
    if (process.env.FUZZ_TRACE)
      process.stdout.write(
        `trace ${index} ${name} ${body.length} bytes → ${outcome} ${detail ?? ''}\n`,
      );
    tally.add(`grpc ${name}`, outcome, detail);
    progress('gRPC', ++done, GRPC_REQUESTS);
  });
  client.close();
}

async function fuzzCheckout(url: string, tally: Tally, random: Random): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const template = JSON.parse(checkoutBody(1, 'FUZZ')) as unknown;
  let done = 0;
  await pool(HTTP_REQUESTS, async () => {
    const body = random.pick([
      () => JSON.stringify(mutateLike(template, random)),
      () =>
        damageBytes(Buffer.from(checkoutBody(random.int(1e6), 'FUZZ')), random).toString('latin1'),
      () => JSON.stringify(random.pick([null, 42, 'text', [], {}, [template], { checkoutId: {} }])),
      () => '{"a":'.repeat(5_000),
      () =>
        JSON.stringify({
          ...(template as object),
          chargeLines: Array.from({ length: 20_000 }, () => ({ lineNumber: 1 })),
        }),
    ])();
    let outcome: Outcome;
    let detail: string | undefined;
    try {
      const answer = await postJson(agent, new URL('/checkouts', url), body);
      if (answer.status >= 200 && answer.status < 300) outcome = 'ok';
      // 4xx with a reason, or 503 with the broker's reason (the gRPC phase may have deleted the topic).
      else if (
        answer.status >= 400 &&
        (answer.status < 500 || answer.status === 503) &&
        answer.text.length > 0
      )
        outcome = 'clear error';
      else [outcome, detail] = ['unclear', `${answer.status}: ${answer.text.slice(0, 200)}`];
    } catch (error) {
      // A server may answer 413 and close before an oversized body is written: fine if it still serves.
      const closedEarly =
        /EPIPE|ECONNRESET/.test((error as Error).message) && body.length > 1_000_000;
      const serving = await fetch(`${url}/health`).then(
        (response) => response.ok,
        () => false,
      );
      [outcome, detail] =
        closedEarly && serving
          ? ['clear error']
          : [
              'crash',
              `${(error as Error).message} (body ${body.length} bytes, still serving: ${serving})`,
            ];
    }
    tally.add('http POST /checkouts', outcome, detail);
    progress('HTTP', ++done, HTTP_REQUESTS);
  });
  agent.destroy();
}

/** Kafka's clear refusal is the connection closed; a frame not yet complete is held, as Kafka holds it. */
const KAFKA_OUTCOMES: Record<KafkaOutcome, Outcome> = {
  answered: 'ok',
  closed: 'clear error',
  'held (long poll)': 'held (long poll)',
  'awaiting the rest': 'held (long poll)',
  unclear: 'unclear',
};

async function main(): Promise<void> {
  const started = Date.now();
  process.stdout.write(
    `fuzzing with seed ${SEED} (FUZZ_SEED): ${GRPC_REQUESTS} gRPC + ${HTTP_REQUESTS} HTTP requests + ${KAFKA_FRAMES} Kafka frames\n`,
  );
  const broker = await startBroker({
    env: {
      BROKER_ADMIN_TOKEN: ADMIN_TOKEN,
      BROKER_TOPICS: 'patient.checkout:4',
      BROKER_KAFKA_PORT: '0',
    },
  });
  const checkout = await startService('checkout', {
    CHECKOUT_PORT: '0',
    BROKER_ADDRESS: broker.address,
    LOG_LEVEL: 'info',
  });
  const checkoutUrl = await checkoutAddress(checkout.output());
  const tally = new Tally();
  const random = new Random(SEED);
  try {
    await fuzzBroker(broker.address, tally, random);
    await fuzzCheckout(checkoutUrl, tally, random);
    // A connection the broker closed over its own error is not a clear answer: its log says so.
    let internalFailure: string | undefined;
    void broker
      .nextLine((line) => line.includes('kafka request failed inside the broker'))
      .then(
        (line) => (internalFailure = line),
        () => undefined,
      );
    await fuzzKafka(
      broker.kafkaAddress as string,
      KAFKA_FRAMES,
      random,
      pool,
      (target, outcome, detail) => tally.add(target, KAFKA_OUTCOMES[outcome], detail),
      (done) => progress('Kafka', done, KAFKA_FRAMES),
    );
    if (internalFailure)
      tally.add('kafka (broker errors)', 'unclear', internalFailure.slice(0, 300));
    // Still standing, and still serving properly?
    const alive = broker.child.exitCode === null && checkout.child.exitCode === null;
    const listed = await new Promise<boolean>((resolve) => {
      const client = new proto.BrokerClient(broker.address, credentials.createInsecure());
      client.listTopics({ includeInternal: false }, (error) => {
        client.close();
        resolve(!error);
      });
    });
    const healthy =
      (await fetch(`${checkoutUrl}/health`).then(
        (response) => response.ok,
        () => false,
      )) && listed;
    if (!alive || !healthy)
      tally.add(
        'processes after fuzzing',
        'crash',
        `broker exit ${broker.child.exitCode}, checkout exit ${checkout.child.exitCode}, serving ${healthy}`,
      );
  } finally {
    if (broker.child.exitCode !== null || checkout.child.exitCode !== null)
      process.stdout.write(
        `\nlast output of the processes:\n--- broker (exit ${broker.child.exitCode ?? broker.child.signalCode})\n${broker.output().slice(-3_000)}\n--- checkout\n${checkout.output().slice(-2_000)}\n`,
      );
    await checkout.stop();
    await broker.stop();
    broker.cleanup();
  }
  const outcomes: Outcome[] = ['ok', 'clear error', 'held (long poll)', 'unclear', 'crash'];
  const rows = [...tally.counts].map(([target, counts]) => [
    target,
    ...outcomes.map((outcome) => String(counts.get(outcome) ?? 0)),
  ]);
  const header = ['target', ...outcomes];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length)),
  );
  for (const row of [header, ...rows])
    process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column])).join('  ')}\n`);
  for (const example of tally.examples) process.stdout.write(`  ✖ ${example}\n`);
  const failures = tally.total('unclear') + tally.total('crash');
  process.stdout.write(
    `\n${tally.total()} requests in ${((Date.now() - started) / 1000).toFixed(1)} s: ${tally.total('crash')} crashes, ${tally.total('unclear')} unclear answers\n`,
  );
  process.exit(failures === 0 ? 0 : 1);
}

/** checkout logs the address it listens on (port 0 picks one). */
async function checkoutAddress(output: string): Promise<string> {
  const match =
    /"url":"(http:\/\/[^"]+)"/.exec(output) ?? /listening[^\n]*?(http:\/\/[0-9.:]+)/.exec(output);
  if (!match)
    throw new Error(`cannot find checkout's address in its output:\n${output.slice(0, 2_000)}`);
  return match[1];
}

main().catch((error: unknown) => {
  process.stderr.write(`fuzz: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
