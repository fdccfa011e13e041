// Rebalances on our broker under load: the timeline of a small group (who
// joined and left, and how long consumption paused), and the pauses of an
// eager group of 4 members on 4 partitions across many rebalances.
import { performance } from 'node:perf_hooks';
import { Admin, BrokerConnection, Consumer, Producer } from '@hospital/broker-client';
import { GroupState, rebalanceTriggerLabel } from '@hospital/proto';
import { startBroker } from '@hospital/processes';

function record(size: number): Buffer {
  const buffer = Buffer.alloc(size, 0x61);
  buffer.writeDoubleLE(performance.now(), 0);
  return buffer;
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

export interface EagerPauses {
  members: number;
  partitions: number;
  rebalances: number;
  pauseP50Ms: number;
  pauseP99Ms: number;
  pauseMaxMs: number;
}

/**
 * An eager group of 4 members on 4 partitions under load, while a fifth
 * member joins and leaves `cycles` times: each rebalance's pause, as the
 * group records it (from the first member revoking to the last one
 * assigned).
 */
export async function eagerPauses(cycles: number): Promise<EagerPauses> {
  const broker = await startBroker({
    env: { BROKER_TOPICS: 'bench.pauses:4', BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' },
  });
  const connection = new BrokerConnection({ broker: broker.address, clientId: 'pauses' });
  const producer = new Producer(connection);
  const started: { consumer: Consumer; connection: BrokerConnection }[] = [];
  const join = async (name: string) => {
    const memberConnection = new BrokerConnection({ broker: broker.address, clientId: name });
    const consumer = new Consumer(memberConnection, { groupId: 'pauses', maxWaitMs: 200 });
    const joined = new Promise<void>((resolve) =>
      consumer.events.on('consumer.group.join', () => resolve()),
    );
    consumer.subscribe({ topics: ['bench.pauses'] });
    await consumer.run({
      eachBatch: async ({ batch, resolveOffset }) =>
        resolveOffset(batch.messages.at(-1)?.offset ?? 0),
    });
    const member = { consumer, connection: memberConnection };
    started.push(member);
    await joined;
    return member;
  };
  let producing = true;
  const load = (async () => {
    while (producing) {
      await producer.send({
        topic: 'bench.pauses',
        messages: Array.from({ length: 20 }, () => ({ value: record(300) })),
      });
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  const admin = new Admin(connection);
  // generation -> pause, read after each rebalance (the group keeps only its recent ones).
  const pausesByGeneration = new Map<number, number>();
  const stable = async () => {
    for (;;) {
      const group = await admin.describeGroup('pauses');
      if (
        group.state === GroupState.GROUP_STATE_STABLE &&
        group.rebalances.every((rebalance) => rebalance.endedMs > 0)
      ) {
        for (const rebalance of group.rebalances)
          pausesByGeneration.set(rebalance.generationId, rebalance.endedMs - rebalance.startedMs);
        return group;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  try {
    for (let index = 0; index < 4; index++) await join(`member-${index}`);
    const before = (await stable()).generationId;
    for (let cycle = 0; cycle < cycles; cycle++) {
      const extra = await join(`extra-${cycle}`);
      await stable();
      await extra.consumer.stop();
      started.splice(started.indexOf(extra), 1);
      extra.connection.close();
      await stable();
    }
    await stable();
    const pauses = [...pausesByGeneration]
      .filter(([generation]) => generation > before)
      .map(([, pause]) => pause)
      .sort((a, b) => a - b);
    const at = (p: number) =>
      pauses[Math.min(pauses.length - 1, Math.floor((p / 100) * pauses.length))];
    return {
      members: 4,
      partitions: 4,
      rebalances: pauses.length,
      pauseP50Ms: at(50),
      pauseP99Ms: at(99),
      pauseMaxMs: pauses[pauses.length - 1],
    };
  } finally {
    producing = false;
    await load;
    for (const member of started) {
      await member.consumer.stop().catch(() => undefined);
      member.connection.close();
    }
    await producer.disconnect();
    connection.close();
    await broker.stop();
    broker.cleanup();
  }
}
