import { ConsumerSubscription, type JoinGroupRequest } from '@hospital/proto';
import pino from 'pino';
import type { GroupRecord } from '../records/group-records';
import { ManualClock } from '../runtime/timer';
import type { CoordinatorResult, Step } from '../shard/coordinator-result';
import { GroupShard } from '../shard/group-shard';
import type {
  CoordinatorConfig,
  HandlerContext,
  TopicPartitionsView,
} from '../shard/handler-context';
import { onTimerExpired } from '../shard/timer-handlers';
import { timerKey, type TimerExpiry } from '../shard/timer-expiry';
import type { GroupView } from '../state/classic-group';

export const GROUP = 'billing';
export const SESSION = 10_000;
export const REBALANCE = 30_000;

export const subscription = (...topics: string[]) =>
  Buffer.from(
    ConsumerSubscription.encode({
      topics,
      userData: Buffer.alloc(0),
      ownedPartitions: [],
      generationId: -1,
    }).finish(),
  );

export function joinRequest(
  memberId: string,
  clientId: string,
  options: {
    instance?: string;
    topics?: string[];
    rebalanceTimeoutMs?: number;
    protocols?: { name: string; metadata: Buffer }[];
  } = {},
): JoinGroupRequest {
  return {
    groupId: GROUP,
    sessionTimeoutMs: SESSION,
    rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? REBALANCE,
    memberId,
    groupInstanceId: options.instance,
    protocolType: 'consumer',
    protocols: options.protocols ?? [
      { name: 'range', metadata: subscription(...(options.topics ?? ['patient.checkout'])) },
    ],
    clientId,
    reason: '',
  };
}

/** The limits the coordinator's tests run with, unless a test says otherwise. */
export const TEST_CONFIG: CoordinatorConfig = {
  initialRebalanceDelayMs: 0,
  minSessionTimeoutMs: 100,
  maxSessionTimeoutMs: 300_000,
  maxGroupSize: 100,
  offsetsRetentionMs: 7 * 24 * 3_600_000,
};

/** Any topic has 4 partitions with offsets 10 to 100; a timestamp lands on 50. */
export const TEST_TOPICS: TopicPartitionsView = {
  partitionCount: () => 4,
  logStartOffset: () => 10,
  logEndOffset: () => 100,
  offsetForTimestamp: () => 50,
};

/**
 * The shard alone, in the style of Kafka's GroupMetadataManagerTest: a test
 * calls a handler, looks at the records it returns, and replays them (and
 * the steps that follow) as the runtime would, with no log in between.
 */
export function shardFixture(overrides: Partial<CoordinatorConfig> = {}) {
  const clock = new ManualClock();
  const due = new Map<string, { expiry: TimerExpiry; at: number }>();
  const shard = new GroupShard(
    {
      schedule: (expiry, delayMs) =>
        due.set(timerKey(expiry), { expiry, at: clock.now() + delayMs }),
      cancel: (expiry) => due.delete(timerKey(expiry)),
    },
    () => clock.now(),
    pino({ level: 'silent' }),
  );
  let ids = 0;
  const config: CoordinatorConfig = { ...TEST_CONFIG, ...overrides };
  const context = (): HandlerContext => ({
    nowMs: clock.now(),
    config,
    newId: () => `id${++ids}`,
    topics: TEST_TOPICS,
  });

  /** The handler's own result, not yet replayed. */
  const handle = <R>(step: Step) => step(shard, context()) as CoordinatorResult<R>;

  /** Replays a result and runs every step after it; returns each later step's records, in order. */
  const apply = (result: CoordinatorResult<unknown>): GroupRecord[][] => {
    for (const record of result.records) shard.replay(record);
    if (!result.then) return [];
    const next = handle(result.then);
    return [next.records as GroupRecord[], ...apply(next)];
  };

  /** Handles and applies: the handler's records, then each following step's. */
  const run = <R>(step: Step) => {
    const result = handle<R>(step);
    const following = apply(result);
    return { result, records: result.records, following };
  };

  /** Moves time on and runs the handler of each timer that falls due; returns their records. */
  const advance = (ms: number): GroupRecord[][] => {
    const target = clock.now() + ms;
    const fired: GroupRecord[][] = [];
    for (;;) {
      const next = [...due.values()]
        .filter((timer) => timer.at <= target)
        .sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      due.delete(timerKey(next.expiry));
      clock.advance(next.at - clock.now());
      const result = handle(onTimerExpired(next.expiry));
      fired.push(result.records as GroupRecord[], ...apply(result));
    }
    clock.advance(target - clock.now());
    return fired;
  };

  const group = () => shard.group(GROUP) as GroupView;
  const scheduled = (kind: TimerExpiry['kind']) =>
    [...due.values()].filter((timer) => timer.expiry.kind === kind).map((timer) => timer.expiry);

  return {
    clock,
    shard,
    /** The limits in force; a test may change them (an operator lowering a limit, say). */
    config,
    handle,
    apply,
    run,
    advance,
    group,
    scheduled,
    now: () => clock.now(),
  };
}

/** The type of each record, for a quick look at a sequence. */
export const typesOf = (records: readonly GroupRecord[]) => records.map((record) => record.type);

/** A new dynamic member's two-step join, through the handlers; returns its id and both results. */
export function joinNew(
  t: ReturnType<typeof shardFixture>,
  clientId: string,
  joinGroup: (request: JoinGroupRequest, host: string) => Step,
) {
  const issued = t.run(joinGroup(joinRequest('', clientId), '10.0.0.1'));
  const record = issued.records[0];
  if (record?.type !== 'member-id-issued')
    throw new Error(`expected member-id-issued, got ${record?.type}`);
  const joined = t.run(joinGroup(joinRequest(record.memberId, clientId), '10.0.0.1'));
  return { memberId: record.memberId, issued, joined };
}

export function syncRequest(
  memberId: string,
  generationId: number,
  assignments: Record<string, string> = {},
  groupInstanceId?: string,
) {
  return {
    groupId: GROUP,
    generationId,
    memberId,
    groupInstanceId,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: Object.entries(assignments).map(([member, assignment]) => ({
      memberId: member,
      assignment: Buffer.from(assignment),
    })),
  };
}
