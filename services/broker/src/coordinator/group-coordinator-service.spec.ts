import {
  ErrorReason,
  GroupState,
  MembershipEventType,
  RebalanceTrigger,
  type JoinGroupResponse,
  type WatchMembershipResponse,
} from '@hospital/proto';
import pino from 'pino';
import type { BrokerError } from '../errors/broker-error';
import { GroupCoordinatorService } from './group-coordinator-service';
import { decodeRecord } from './records/record-codec';
import { CoordinatorRuntime, type CoordinatorLogWriter } from './runtime/coordinator-runtime';
import { ManualClock } from './runtime/timer';
import type { CoordinatorConfig } from './shard/handler-context';
import {
  GROUP,
  joinRequest,
  REBALANCE,
  SESSION,
  subscription,
  TEST_CONFIG,
  TEST_TOPICS,
} from './testing/shard-fixture';
import type { GroupView } from './state/classic-group';
import { assertTransition } from './state/group-state';

function harness(
  overrides: Partial<CoordinatorConfig> = {},
  /** Runs before each write completes; a test that returns a pending promise holds the write. */
  beforeStore: () => Promise<void> = async () => {},
) {
  const clock = new ManualClock();
  const stored: { generation: number; members: number }[] = [];
  let ids = 0;
  const log: CoordinatorLogWriter = {
    append: async (_groupId, records) => {
      await beforeStore();
      for (const encoded of records) {
        const record = decodeRecord(encoded.key, encoded.value);
        if (record?.type === 'group-metadata')
          stored.push({
            generation: record.value.generationId,
            members: record.value.members.length,
          });
      }
    },
    readAll: () => [],
  };
  const logger = pino({ level: 'silent' });
  const runtime = new CoordinatorRuntime({
    log,
    clock,
    config: { ...TEST_CONFIG, ...overrides },
    topics: TEST_TOPICS,
    newId: () => `id${++ids}`,
    logger,
  });
  const coordinator = new GroupCoordinatorService(runtime, logger);
  const group = () => coordinator.group(GROUP) as GroupView;

  /** The two-step join of a dynamic member: MEMBER_ID_REQUIRED, then the held JoinGroup. */
  const join = async (
    clientId: string,
    options: Parameters<typeof joinRequest>[2] = {},
  ): Promise<{ memberId: string; joined: Promise<JoinGroupResponse> }> => {
    if (options.instance !== undefined) {
      const joined = coordinator.joinGroup(joinRequest('', clientId, options), '10.0.0.1');
      return { memberId: '', joined };
    }
    const memberId = await memberIdRequired(
      coordinator.joinGroup(joinRequest('', clientId, options), '10.0.0.1'),
    );
    return {
      memberId,
      joined: coordinator.joinGroup(joinRequest(memberId, clientId, options), '10.0.0.1'),
    };
  };
  const rejoin = (
    memberId: string,
    clientId: string,
    options: Parameters<typeof joinRequest>[2] = {},
  ) => coordinator.joinGroup(joinRequest(memberId, clientId, options), '10.0.0.1');
  const sync = (
    memberId: string,
    generationId: number,
    assignments: { memberId: string; assignment: Buffer }[] = [],
  ) =>
    coordinator.syncGroup({
      groupId: GROUP,
      generationId,
      memberId,
      groupInstanceId: undefined,
      protocolType: 'consumer',
      protocolName: '',
      assignments,
    });
  const heartbeat = (memberId: string, generationId: number, instance?: string) =>
    coordinator.heartbeat({ groupId: GROUP, generationId, memberId, groupInstanceId: instance });

  /** One stable member: joined, leader, synced with `assignment`. */
  const stableSingle = async (clientId = 'c1') => {
    const first = await join(clientId);
    const response = await first.joined;
    await sync(first.memberId, response.generationId, [
      { memberId: first.memberId, assignment: Buffer.from('all') },
    ]);
    return { memberId: first.memberId, generation: response.generationId };
  };

  /** An OffsetCommit of one partition, for its fencing: the reason it was refused, or undefined. */
  const commit = (
    groupId: string,
    memberId: string,
    groupInstanceId: string | undefined,
    generationId: number,
  ) =>
    rejectionOf(
      coordinator.commitOffsets({
        groupId,
        memberId,
        groupInstanceId,
        generationId,
        topics: [
          {
            name: 'patient.checkout',
            partitions: [{ partition: 0, committedOffset: 1, metadata: '' }],
          },
        ],
      }),
    );

  return { clock, coordinator, stored, group, join, rejoin, sync, heartbeat, stableSingle, commit };
}

async function memberIdRequired(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    const failure = error as BrokerError;
    expect(failure.reason).toBe(ErrorReason.MEMBER_ID_REQUIRED);
    return failure.metadata.member_id;
  }
  throw new Error('expected MEMBER_ID_REQUIRED');
}

function reasonOf(call: () => unknown): ErrorReason | undefined {
  try {
    call();
  } catch (error) {
    return (error as BrokerError).reason;
  }
  return undefined;
}

async function rejectionOf(promise: Promise<unknown>): Promise<ErrorReason | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as BrokerError).reason;
  }
  return undefined;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('broker/coordinator/GroupCoordinatorService', () => {
  describe('joining', () => {
    it('answers the first JoinGroup with MEMBER_ID_REQUIRED and a new member id', async () => {
      const { coordinator } = harness();
      const memberId = await memberIdRequired(
        coordinator.joinGroup(
          joinRequest('', 'billing-1', {
            protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
          }),
          'h',
        ),
      );
      expect(memberId).toMatch(/^billing-1-/);
    });

    it('makes the first member the leader and hands only the leader the member list', async () => {
      const t = harness();
      const first = await t.stableSingle();
      const second = await t.join('c2');
      expect(t.group().state).toBe(GroupState.GROUP_STATE_PREPARING_REBALANCE);
      const leaderJoin = t.rejoin(first.memberId, 'c1');
      const [leader, follower] = await Promise.all([leaderJoin, second.joined]);
      expect(leader).toMatchObject({
        generationId: 2,
        leader: first.memberId,
        memberId: first.memberId,
        protocolName: 'range',
      });
      expect(leader.members.map((member) => member.memberId)).toEqual([
        first.memberId,
        second.memberId,
      ]);
      expect(leader.members[1].metadata).toEqual(subscription('patient.checkout'));
      expect(follower).toMatchObject({ generationId: 2, leader: first.memberId, members: [] });
      expect(t.group().state).toBe(GroupState.GROUP_STATE_COMPLETING_REBALANCE);
    });

    it('holds followers in SyncGroup until the leader assigns; each learns only its share; members left out get nothing', async () => {
      const t = harness();
      const first = await t.stableSingle();
      const second = await t.join('c2');
      const third = await t.join('c3');
      await Promise.all([t.rejoin(first.memberId, 'c1'), second.joined, third.joined]);
      let followerAnswered = false;
      const followerSync = t
        .sync(second.memberId, 2)
        .then((answer) => ((followerAnswered = true), answer));
      const thirdSync = t.sync(third.memberId, 2);
      await settle();
      expect(followerAnswered).toBe(false);
      const leaderSync = t.sync(first.memberId, 2, [
        { memberId: first.memberId, assignment: Buffer.from('P0,P1') },
        { memberId: second.memberId, assignment: Buffer.from('P2,P3') },
      ]);
      expect((await leaderSync).assignment.toString()).toBe('P0,P1');
      expect((await followerSync).assignment.toString()).toBe('P2,P3');
      expect((await thirdSync).assignment.length).toBe(0);
      expect(t.group().state).toBe(GroupState.GROUP_STATE_STABLE);
      expect(t.stored[t.stored.length - 1]).toMatchObject({ generation: 2, members: 3 });
    });

    it('increments the generation with every rebalance and records its trigger', async () => {
      const t = harness();
      const first = await t.stableSingle();
      expect(t.group().generationId).toBe(1);
      const second = await t.join('c2');
      await Promise.all([t.rejoin(first.memberId, 'c1'), second.joined]);
      await Promise.all([t.sync(first.memberId, 2, []), t.sync(second.memberId, 2)]);
      t.coordinator.leaveGroup({
        groupId: GROUP,
        members: [{ memberId: second.memberId, groupInstanceId: undefined, reason: 'scaled down' }],
      });
      await t.rejoin(first.memberId, 'c1');
      expect(t.group().generationId).toBe(3);
      expect(
        t.group().history.map((record) => [record.generationId, RebalanceTrigger[record.trigger]]),
      ).toEqual([
        [1, 'REBALANCE_TRIGGER_MEMBER_JOINED'],
        [2, 'REBALANCE_TRIGGER_MEMBER_JOINED'],
        [3, 'REBALANCE_TRIGGER_MEMBER_LEFT'],
      ]);
    });

    it('chooses the protocol by vote among those every member supports', async () => {
      const t = harness();
      const protocols = (...names: string[]) =>
        names.map((name) => ({ name, metadata: subscription('t') }));
      const a = await t.join('a', { protocols: protocols('range', 'roundrobin') });
      await a.joined;
      const b = await t.join('b', { protocols: protocols('roundrobin', 'range') });
      const c = await t.join('c', { protocols: protocols('roundrobin', 'range', 'sticky') });
      const [leader] = await Promise.all([
        t.rejoin(a.memberId, 'a', { protocols: protocols('range', 'roundrobin') }),
        b.joined,
        c.joined,
      ]);
      expect(leader.protocolName).toBe('roundrobin');
    });

    it('refuses a member that shares no protocol with the group', async () => {
      const t = harness();
      await t.stableSingle();
      const odd = t.coordinator.joinGroup(
        joinRequest('', 'odd', { protocols: [{ name: 'sticky', metadata: Buffer.alloc(0) }] }),
        'h',
      );
      expect(await rejectionOf(odd)).toBe(ErrorReason.INCONSISTENT_GROUP_PROTOCOL);
    });

    it('refuses session timeouts outside the configured range', async () => {
      const t = harness({ minSessionTimeoutMs: 6_000 });
      expect(
        await rejectionOf(
          t.coordinator.joinGroup(
            {
              ...joinRequest('', 'x', {
                protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
              }),
              sessionTimeoutMs: 10,
              rebalanceTimeoutMs: 0,
            },
            'h',
          ),
        ),
      ).toBe(ErrorReason.INVALID_SESSION_TIMEOUT);
    });

    it('waits the initial rebalance delay so members starting together share one generation', async () => {
      const t = harness({ initialRebalanceDelayMs: 3_000 });
      const first = await t.join('c1');
      t.clock.advance(1_000);
      const second = await t.join('c2');
      let answered = false;
      void first.joined.then(() => (answered = true));
      await settle();
      expect(answered).toBe(false);
      t.clock.advance(2_000);
      const [a, b] = await Promise.all([first.joined, second.joined]);
      expect(a.generationId).toBe(1);
      expect(b.generationId).toBe(1);
    });

    it('forgets a member id handed out with MEMBER_ID_REQUIRED that never comes back', async () => {
      const t = harness();
      await t.stableSingle();
      const pending = await memberIdRequired(
        t.coordinator.joinGroup(
          joinRequest('', 'late', { protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] }),
          'h',
        ),
      );
      t.clock.advance(SESSION + 1);
      expect(await rejectionOf(t.rejoin(pending, 'late'))).toBe(ErrorReason.UNKNOWN_MEMBER_ID);
    });
  });

  describe("a join while the leader's assignment is being stored", () => {
    it('answers the held SyncGroups REBALANCE_IN_PROGRESS, leaves no rejection unobserved, and the next generation completes', async () => {
      const unobserved: unknown[] = [];
      const onUnhandled = (reason: unknown) => unobserved.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        let releaseStore = () => {};
        let holdStore = false;
        const t = harness({}, () =>
          holdStore ? new Promise<void>((resolve) => (releaseStore = resolve)) : Promise.resolve(),
        );
        const first = await t.stableSingle();
        const second = await t.join('c2');
        const [leaderJoin, followerJoin] = await Promise.all([
          t.rejoin(first.memberId, 'c1'),
          second.joined,
        ]);
        const generation = leaderJoin.generationId;
        const followerSync = t.sync(second.memberId, generation);
        holdStore = true;
        const leaderSync = t.sync(first.memberId, generation, [
          { memberId: first.memberId, assignment: Buffer.from('a') },
          { memberId: second.memberId, assignment: Buffer.from('b') },
        ]);
        await settle();
        // A third member joins while the assignment write is in flight.
        const third = await t.join('c3');
        expect(t.group().state).toBe(GroupState.GROUP_STATE_PREPARING_REBALANCE);
        expect(await rejectionOf(leaderSync)).toBe(ErrorReason.REBALANCE_IN_PROGRESS);
        expect(await rejectionOf(followerSync)).toBe(ErrorReason.REBALANCE_IN_PROGRESS);
        holdStore = false;
        releaseStore();
        await settle();
        // The late write changes nothing: the group stays in the new rebalance.
        expect(t.group().state).toBe(GroupState.GROUP_STATE_PREPARING_REBALANCE);
        const rejoined = await Promise.all([
          t.rejoin(first.memberId, 'c1'),
          t.rejoin(second.memberId, 'c2'),
          third.joined,
        ]);
        expect(rejoined.map((response) => response.generationId)).toEqual([
          generation + 1,
          generation + 1,
          generation + 1,
        ]);
        expect(followerJoin.generationId).toBe(generation);
        await settle();
        expect(unobserved).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    it('answers the leader REBALANCE_IN_PROGRESS when the join arrives before its SyncGroup awaits anything', async () => {
      const unobserved: unknown[] = [];
      const onUnhandled = (reason: unknown) => unobserved.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        let holdStore = false;
        const t = harness({}, () => (holdStore ? new Promise<void>(() => {}) : Promise.resolve()));
        const first = await t.join('c1');
        const leaderJoin = await first.joined;
        holdStore = true;
        const leaderSync = t.sync(first.memberId, leaderJoin.generationId, [
          { memberId: first.memberId, assignment: Buffer.from('a') },
        ]);
        // No settle: the join lands while the SyncGroup's write is still out.
        const second = await t.join('c2');
        void second.joined.catch(() => undefined);
        expect(await rejectionOf(leaderSync)).toBe(ErrorReason.REBALANCE_IN_PROGRESS);
        await settle();
        expect(unobserved).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });
  });

  describe('heartbeats and sessions', () => {
    it('answers heartbeats by state and generation', async () => {
      const t = harness();
      const first = await t.stableSingle();
      expect(reasonOf(() => t.heartbeat(first.memberId, 1))).toBeUndefined();
      expect(reasonOf(() => t.heartbeat(first.memberId, 0))).toBe(ErrorReason.ILLEGAL_GENERATION);
      expect(reasonOf(() => t.heartbeat('nobody', 1))).toBe(ErrorReason.UNKNOWN_MEMBER_ID);
      await t.join('c2');
      expect(reasonOf(() => t.heartbeat(first.memberId, 1))).toBe(
        ErrorReason.REBALANCE_IN_PROGRESS,
      );
    });

    it('removes a member whose session expires and rebalances the rest', async () => {
      const t = harness();
      const first = await t.stableSingle();
      const second = await t.join('c2');
      await Promise.all([t.rejoin(first.memberId, 'c1'), second.joined]);
      await Promise.all([t.sync(first.memberId, 2, []), t.sync(second.memberId, 2)]);
      for (let i = 0; i < 4; i++) {
        t.clock.advance(SESSION / 2);
        reasonOf(() => t.heartbeat(first.memberId, 2)); // only the first member keeps heartbeating
      }
      expect(t.group().member(second.memberId)).toBeUndefined();
      expect(t.group().state).toBe(GroupState.GROUP_STATE_PREPARING_REBALANCE);
      expect(t.group().history.at(-1)?.trigger).toBe(
        RebalanceTrigger.REBALANCE_TRIGGER_SESSION_TIMEOUT,
      );
      const answer = await t.rejoin(first.memberId, 'c1');
      expect(answer.generationId).toBe(3);
      expect(answer.members.map((member) => member.memberId)).toEqual([first.memberId]);
    });

    it('drops a leader that does not rejoin in time and elects the next member', async () => {
      const t = harness();
      const first = await t.stableSingle();
      const second = await t.join('c2');
      await Promise.all([t.rejoin(first.memberId, 'c1'), second.joined]);
      await Promise.all([t.sync(first.memberId, 2, []), t.sync(second.memberId, 2)]);
      const third = await t.join('c3');
      const secondRejoin = t.rejoin(second.memberId, 'c2');
      t.clock.advance(REBALANCE);
      const [secondAnswer, thirdAnswer] = await Promise.all([secondRejoin, third.joined]);
      expect(t.group().member(first.memberId)).toBeUndefined();
      expect(secondAnswer).toMatchObject({ generationId: 3, leader: second.memberId });
      expect(secondAnswer.members).toHaveLength(2);
      expect(thirdAnswer.members).toEqual([]);
    });

    it('drops members that never send SyncGroup and rebalances without them', async () => {
      const t = harness();
      const first = await t.join('c1');
      await first.joined;
      t.clock.advance(REBALANCE);
      expect(t.group().member(first.memberId)).toBeUndefined();
      expect(t.group().state).toBe(GroupState.GROUP_STATE_EMPTY);
    });
  });

  describe('leaving', () => {
    it('rebalances on a graceful leave and empties the group when the last member leaves', async () => {
      const t = harness();
      const first = await t.stableSingle();
      t.coordinator.leaveGroup({
        groupId: GROUP,
        members: [{ memberId: first.memberId, groupInstanceId: undefined, reason: 'shutdown' }],
      });
      expect(t.group().state).toBe(GroupState.GROUP_STATE_EMPTY);
      expect(t.group().generationId).toBe(2);
      expect(reasonOf(() => t.heartbeat(first.memberId, 2))).toBe(ErrorReason.UNKNOWN_MEMBER_ID);
    });

    it('answers UNKNOWN_MEMBER_ID for a member that is not in the group', async () => {
      const t = harness();
      await t.stableSingle();
      expect(
        reasonOf(() =>
          t.coordinator.leaveGroup({
            groupId: GROUP,
            members: [{ memberId: 'ghost', groupInstanceId: undefined, reason: '' }],
          }),
        ),
      ).toBe(ErrorReason.UNKNOWN_MEMBER_ID);
    });
  });

  describe('SyncGroup', () => {
    it('refuses a SyncGroup from an old generation and during a rebalance', async () => {
      const t = harness();
      const first = await t.stableSingle();
      await expect(rejectionOf(t.sync(first.memberId, 0))).resolves.toBe(
        ErrorReason.ILLEGAL_GENERATION,
      );
      await t.join('c2');
      await expect(rejectionOf(t.sync(first.memberId, 1))).resolves.toBe(
        ErrorReason.REBALANCE_IN_PROGRESS,
      );
    });

    it('answers a SyncGroup in Stable with the current assignment', async () => {
      const t = harness();
      const first = await t.stableSingle();
      await expect(t.sync(first.memberId, 1)).resolves.toMatchObject({
        assignment: Buffer.from('all'),
      });
    });
  });

  describe('offset commit fencing', () => {
    it('follows Kafka: -1 on an Empty group, current generation otherwise, none while completing a rebalance', async () => {
      const t = harness();
      expect(await t.commit('fresh', '', undefined, -1)).toBeUndefined();
      expect(await t.commit('fresh2', 'someone', undefined, 3)).toBe(ErrorReason.UNKNOWN_MEMBER_ID);
      const first = await t.join('c1');
      await first.joined;
      expect(await t.commit(GROUP, first.memberId, undefined, 1)).toBe(
        ErrorReason.REBALANCE_IN_PROGRESS,
      );
      await t.sync(first.memberId, 1, []);
      expect(await t.commit(GROUP, first.memberId, undefined, 1)).toBeUndefined();
      expect(await t.commit(GROUP, first.memberId, undefined, 0)).toBe(
        ErrorReason.ILLEGAL_GENERATION,
      );
      await t.join('c2');
      expect(await t.commit(GROUP, first.memberId, undefined, 1)).toBeUndefined(); // PreparingRebalance: still allowed
    });

    it('refuses a zombie: a member past its session timeout cannot commit', async () => {
      const t = harness();
      const first = await t.stableSingle();
      t.clock.advance(SESSION + 1);
      expect(await t.commit(GROUP, first.memberId, undefined, 1)).toBe(
        ErrorReason.UNKNOWN_MEMBER_ID,
      );
    });
  });

  describe('static membership', () => {
    it('lets a restarted static member take its place without a new generation and fences the old instance', async () => {
      const t = harness();
      const original = await t.join('c1', { instance: 'billing-0' });
      const joined = await original.joined;
      await t.sync(joined.memberId, 1, [
        { memberId: joined.memberId, assignment: Buffer.from('P0-P3') },
      ]);
      const restarted = await (await t.join('c1', { instance: 'billing-0' })).joined;
      expect(restarted.generationId).toBe(1);
      expect(restarted.memberId).not.toBe(joined.memberId);
      expect(t.group().state).toBe(GroupState.GROUP_STATE_STABLE);
      await expect(t.sync(restarted.memberId, 1)).resolves.toMatchObject({
        assignment: Buffer.from('P0-P3'),
      });
      expect(reasonOf(() => t.heartbeat(joined.memberId, 1, 'billing-0'))).toBe(
        ErrorReason.FENCED_INSTANCE_ID,
      );
      expect(await t.commit(GROUP, joined.memberId, 'billing-0', 1)).toBe(
        ErrorReason.FENCED_INSTANCE_ID,
      );
    });
  });

  describe('prompt notice and topic changes', () => {
    it('tells watching members at once that a rebalance started', async () => {
      const t = harness();
      const first = await t.stableSingle();
      const events: WatchMembershipResponse[] = [];
      t.coordinator.watchMembership(GROUP, first.memberId, 1, (event) => events.push(event));
      expect(events).toEqual([]);
      await t.join('c2');
      expect(events).toEqual([
        expect.objectContaining({
          type: MembershipEventType.MEMBERSHIP_EVENT_TYPE_REBALANCE_STARTED,
        }),
      ]);
    });

    it('rebalances groups subscribed to a topic whose partitions grew, and only those', async () => {
      const t = harness();
      await t.stableSingle();
      t.coordinator.onPartitionsAdded('other.topic', 8);
      expect(t.group().state).toBe(GroupState.GROUP_STATE_STABLE);
      t.coordinator.onPartitionsAdded('patient.checkout', 8);
      expect(t.group().state).toBe(GroupState.GROUP_STATE_PREPARING_REBALANCE);
      expect(t.group().history.at(-1)).toMatchObject({
        trigger: RebalanceTrigger.REBALANCE_TRIGGER_PARTITIONS_ADDED,
        reason: 'topic patient.checkout now has 8 partitions',
      });
    });
  });

  describe('state table', () => {
    it.each([
      [GroupState.GROUP_STATE_EMPTY, GroupState.GROUP_STATE_STABLE],
      [GroupState.GROUP_STATE_EMPTY, GroupState.GROUP_STATE_COMPLETING_REBALANCE],
      [GroupState.GROUP_STATE_STABLE, GroupState.GROUP_STATE_COMPLETING_REBALANCE],
      [GroupState.GROUP_STATE_PREPARING_REBALANCE, GroupState.GROUP_STATE_STABLE],
      [GroupState.GROUP_STATE_DEAD, GroupState.GROUP_STATE_EMPTY],
    ])('refuses %s -> %s', (from, to) => {
      expect(() => assertTransition(GROUP, from, to)).toThrow(/illegal transition/);
    });
  });
});
