// Rebalances on our broker under load: the timeline of a small group (who
// joined and left, and how long consumption paused), and the pauses of an
// eager group of 4 members on 4 partitions across many rebalances.
import { performance } from 'node:perf_hooks';
import {
  Admin,
  BrokerConnection,
  Consumer,
  Producer,
  type ConsumerOptions,
} from '@hospital/broker-client';
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

/** A broker with one 4-partition topic under a steady load, and the members of one group on it. */
interface LoadedGroup {
  admin: Admin;
  /** Starts a member; resolves once it has joined a generation. */
  join(name: string, options?: Partial<ConsumerOptions>): Promise<GroupMember>;
  /** Stops one member gracefully (LeaveGroup). */
  leave(member: GroupMember): Promise<void>;
  close(): Promise<void>;
}

interface GroupMember {
  consumer: Consumer;
  connection: BrokerConnection;
}

async function startLoadedGroup(options: {
  topic: string;
  groupId: string;
  /** Records of 300 bytes per send, and the pause between sends. */
  load: { records: number; everyMs: number };
}): Promise<LoadedGroup> {
  const { topic, groupId } = options;
  const broker = await startBroker({
    env: { BROKER_TOPICS: `${topic}:4`, BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' },
  });
  const connection = new BrokerConnection({ broker: broker.address, clientId: `${groupId}-load` });
  const producer = new Producer(connection);
  const members: GroupMember[] = [];
  let producing = true;
  const load = (async () => {
    while (producing) {
      await producer.send({
        topic,
        messages: Array.from({ length: options.load.records }, () => ({ value: record(300) })),
      });
      await new Promise((resolve) => setTimeout(resolve, options.load.everyMs));
    }
  })();
  const stop = async (member: GroupMember) => {
    members.splice(members.indexOf(member), 1);
    await member.consumer.stop().catch(() => undefined);
    member.connection.close();
  };
  return {
    admin: new Admin(connection),
    async join(name, consumerOptions = {}) {
      const memberConnection = new BrokerConnection({ broker: broker.address, clientId: name });
      const consumer = new Consumer(memberConnection, { groupId, ...consumerOptions });
      const joined = new Promise<void>((resolve) =>
        consumer.events.on('consumer.group.join', () => resolve()),
      );
      consumer.subscribe({ topics: [topic] });
      await consumer.run({
        eachBatch: async ({ batch, resolveOffset }) =>
          resolveOffset(batch.messages.at(-1)?.offset ?? 0),
      });
      const member = { consumer, connection: memberConnection };
      members.push(member);
      await joined;
      return member;
    },
    leave: stop,
    async close() {
      producing = false;
      await load;
      for (const member of [...members]) await stop(member);
      await producer.disconnect();
      connection.close();
      await broker.stop();
      broker.cleanup();
    },
  };
}

/**
 * A rebalance timeline on our broker under load: one consumer, a second joins
 * at 2 s, the first leaves gracefully at 4 s; the group's own record of its
 * rebalances (DescribeGroup), relative to the start.
 */
export async function rebalanceTimeline(): Promise<RebalanceSpan[]> {
  const group = await startLoadedGroup({
    topic: 'bench.timeline',
    groupId: 'timeline',
    load: { records: 50, everyMs: 100 },
  });
  const started = Date.now();
  const at = (ms: number) =>
    new Promise((resolve) => setTimeout(resolve, ms - (Date.now() - started)));
  try {
    const options = { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 };
    const first = await group.join('consumer-1', options);
    await at(2_000);
    await group.join('consumer-2', options);
    await at(4_000);
    await group.leave(first);
    await at(6_000);
    const described = await group.admin.describeGroup('timeline');
    return described.rebalances
      .filter((rebalance) => rebalance.endedMs > 0)
      .map((rebalance) => ({
        generationId: rebalance.generationId,
        trigger: rebalanceTriggerLabel(rebalance.trigger),
        reason: rebalance.reason,
        startMs: rebalance.startedMs - started,
        pauseMs: rebalance.endedMs - rebalance.startedMs,
      }));
  } finally {
    await group.close();
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
  const group = await startLoadedGroup({
    topic: 'bench.pauses',
    groupId: 'pauses',
    load: { records: 20, everyMs: 10 },
  });
  // generation -> pause, read after each rebalance (the group keeps only its recent ones).
  const pausesByGeneration = new Map<number, number>();
  const stable = async () => {
    for (;;) {
      const described = await group.admin.describeGroup('pauses');
      if (
        described.state === GroupState.GROUP_STATE_STABLE &&
        described.rebalances.every((rebalance) => rebalance.endedMs > 0)
      ) {
        for (const rebalance of described.rebalances)
          pausesByGeneration.set(rebalance.generationId, rebalance.endedMs - rebalance.startedMs);
        return described;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  try {
    const options = { maxWaitMs: 200 };
    for (let index = 0; index < 4; index++) await group.join(`member-${index}`, options);
    const before = (await stable()).generationId;
    for (let cycle = 0; cycle < cycles; cycle++) {
      const extra = await group.join(`extra-${cycle}`, options);
      await stable();
      await group.leave(extra);
      await stable();
    }
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
    await group.close();
  }
}
