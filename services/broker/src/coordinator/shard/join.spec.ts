import {
  ConsumerSubscription,
  ErrorReason,
  GroupState,
  MembershipEventType,
  RebalanceTrigger,
} from '@hospital/proto';
import { HeldResponse } from '../runtime/held-response';
import {
  GROUP,
  joinNew,
  joinRequest,
  REBALANCE,
  SESSION,
  shardFixture,
  subscription,
  syncRequest,
  typesOf,
} from '../testing/shard-fixture';
import { joinGroup } from './join';
import { syncGroup } from './sync';

const spec = (memberId: string, clientId: string, instance?: string) => ({
  memberId,
  groupInstanceId: instance,
  clientId,
  host: '10.0.0.1',
  sessionTimeoutMs: SESSION,
  rebalanceTimeoutMs: REBALANCE,
  protocolType: 'consumer',
  protocols: [{ name: 'range', metadata: subscription('patient.checkout') }],
});

describe('broker/coordinator/shard: JoinGroup records', () => {
  it('answers a new member MEMBER_ID_REQUIRED with one record: the id it handed out', () => {
    const t = shardFixture();
    const { result } = t.run(joinGroup(joinRequest('', 'c1'), '10.0.0.1'));
    expect(result.records).toEqual([
      {
        type: 'member-id-issued',
        groupId: GROUP,
        memberId: 'c1-id1',
        expiresInMs: SESSION,
        atMs: t.now(),
      },
    ]);
    expect(result.response).toEqual({
      error: expect.objectContaining({
        reason: ErrorReason.MEMBER_ID_REQUIRED,
        metadata: { member_id: 'c1-id1' },
      }),
    });
    expect(t.group().pendingMembers).toEqual(new Set(['c1-id1']));
    expect(t.scheduled('pending-member')).toEqual([
      { kind: 'pending-member', groupId: GROUP, memberId: 'c1-id1' },
    ]);
  });

  it('adds the returning member and holds its join, starts the rebalance, and completes the join at once when all have rejoined', () => {
    const t = shardFixture();
    const { memberId, joined } = joinNew(t, 'c1', joinGroup);
    expect(joined.records).toEqual([
      { type: 'member-added', groupId: GROUP, spec: spec(memberId, 'c1'), atMs: t.now() },
      { type: 'join-held', groupId: GROUP, memberId, held: expect.any(HeldResponse) },
    ]);
    expect(joined.following).toEqual([
      [
        {
          type: 'rebalance-started',
          groupId: GROUP,
          trigger: RebalanceTrigger.REBALANCE_TRIGGER_MEMBER_JOINED,
          reason: 'c1 joined',
          atMs: t.now(),
          joinTimeoutMs: REBALANCE,
          initialDelayMs: 0,
        },
      ],
      [
        {
          type: 'join-completed',
          groupId: GROUP,
          generationId: 1,
          protocolName: 'range',
          leaderId: memberId,
          atMs: t.now(),
          syncTimeoutMs: REBALANCE,
        },
        {
          type: 'join-answered',
          groupId: GROUP,
          memberId,
          answer: {
            value: {
              generationId: 1,
              protocolType: 'consumer',
              protocolName: 'range',
              leader: memberId,
              memberId,
              members: [
                {
                  memberId,
                  groupInstanceId: undefined,
                  metadata: subscription('patient.checkout'),
                  clientId: 'c1',
                  host: '10.0.0.1',
                },
              ],
            },
          },
        },
      ],
    ]);
    expect(t.group().state).toBe(GroupState.GROUP_STATE_COMPLETING_REBALANCE);
    expect(t.scheduled('sync')).toEqual([{ kind: 'sync', groupId: GROUP, generationId: 1 }]);
  });

  it('holds an Empty group in the initial delay: the join completes only when the delay timer fires', () => {
    const t = shardFixture({ initialRebalanceDelayMs: 3_000 });
    const { joined } = joinNew(t, 'c1', joinGroup);
    expect(joined.following).toEqual([
      [expect.objectContaining({ type: 'rebalance-started', initialDelayMs: 3_000 })],
      [],
    ]);
    expect(t.advance(3_000).map(typesOf)).toEqual([
      ['initial-delay-ended'],
      ['join-completed', 'join-answered'],
    ]);
  });

  it('answers a Stable follower that rejoins unchanged at once, with no records', () => {
    const t = shardFixture();
    const leader = joinNew(t, 'c1', joinGroup);
    const follower = joinNew(t, 'c2', joinGroup);
    t.run(joinGroup(joinRequest(leader.memberId, 'c1'), '10.0.0.1'));
    t.run(
      syncGroup({
        groupId: GROUP,
        generationId: 2,
        memberId: follower.memberId,
        groupInstanceId: undefined,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments: [],
      }),
    );
    t.run(
      syncGroup({
        groupId: GROUP,
        generationId: 2,
        memberId: leader.memberId,
        groupInstanceId: undefined,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments: [],
      }),
    );
    expect(t.group().state).toBe(GroupState.GROUP_STATE_STABLE);
    const again = t.run(joinGroup(joinRequest(follower.memberId, 'c2'), '10.0.0.1'));
    expect(again.records).toEqual([]);
    expect(again.result.response).toEqual({
      value: expect.objectContaining({ generationId: 2, memberId: follower.memberId, members: [] }),
    });
  });

  it('starts a rebalance when the leader of a Stable group rejoins', () => {
    const t = shardFixture();
    const { memberId } = joinNew(t, 'c1', joinGroup);
    t.run(
      syncGroup({
        groupId: GROUP,
        generationId: 1,
        memberId,
        groupInstanceId: undefined,
        protocolType: 'consumer',
        protocolName: 'range',
        assignments: [],
      }),
    );
    const changed = t.handle(
      joinGroup(
        joinRequest(memberId, 'c1', { topics: ['patient.checkout', 'pharmacy'] }),
        '10.0.0.1',
      ),
    );
    expect(typesOf(changed.records)).toEqual(['member-updated', 'join-held']);
    t.apply(changed);
    expect(t.group().history.at(-1)).toMatchObject({
      generationId: 2,
      trigger: RebalanceTrigger.REBALANCE_TRIGGER_METADATA_CHANGED,
      reason: 'the leader rejoined',
    });
  });

  it('refuses a join that would change nothing with no records: unknown member, bad session timeout', () => {
    const t = shardFixture({ minSessionTimeoutMs: 6_000 });
    expect(() =>
      t.handle(joinGroup({ ...joinRequest('', 'c1'), sessionTimeoutMs: 10 }, 'h')),
    ).toThrow(expect.objectContaining({ reason: ErrorReason.INVALID_SESSION_TIMEOUT }));
    expect(() => t.handle(joinGroup(joinRequest('ghost', 'c1'), 'h'))).toThrow(
      expect.objectContaining({ reason: ErrorReason.UNKNOWN_MEMBER_ID }),
    );
    expect([...t.shard.groups()]).toEqual([]);
  });

  it('refuses a group id no Kafka client could send (over 32,767 bytes) with INVALID_GROUP_ID, storing nothing', () => {
    const t = shardFixture();
    const long = { ...joinRequest('', 'c1'), groupId: 'g'.repeat(40_000) };
    expect(() => t.handle(joinGroup(long, 'h'))).toThrow(
      expect.objectContaining({
        reason: ErrorReason.INVALID_GROUP_ID,
        message: expect.stringContaining('32767'),
      }),
    );
    expect([...t.shard.groups()]).toEqual([]);
  });

  it("refuses a Kafka client into a group of the broker's own clients with INCONSISTENT_GROUP_PROTOCOL: their leaders could not read each other's subscriptions", () => {
    const t = shardFixture();
    joinNew(t, 'ours', joinGroup);
    // Kafka's ConsumerProtocolSubscription v0: version, topics ["patient.checkout"], null user data.
    const kafkaSubscription = Buffer.concat([
      Buffer.from([0, 0, 0, 0, 0, 1, 0, 16]),
      Buffer.from('patient.checkout'),
      Buffer.from([0xff, 0xff, 0xff, 0xff]),
    ]);
    const kafkaClient = joinRequest('', 'rdkafka', {
      protocols: [{ name: 'range', metadata: kafkaSubscription }],
    });
    expect(() => t.handle(joinGroup(kafkaClient, 'h'))).toThrow(
      expect.objectContaining({
        reason: ErrorReason.INCONSISTENT_GROUP_PROTOCOL,
        message: expect.stringContaining("Kafka's consumer protocol"),
      }),
    );
    expect(t.group().members.size).toBe(1);
  });
});

/** The static member billing-0, alone in generation 1, takes every partition; returns its member id. */
function syncStaticLeader(t: ReturnType<typeof shardFixture>): string {
  const original = t.group().staticMembers.get('billing-0') as string;
  t.run(
    syncGroup({
      groupId: GROUP,
      generationId: 1,
      memberId: original,
      groupInstanceId: 'billing-0',
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: original, assignment: Buffer.from('P0-P3') }],
    }),
  );
  return original;
}

describe('broker/coordinator/shard: static members', () => {
  const staticJoin = (t: ReturnType<typeof shardFixture>) =>
    t.run(joinGroup(joinRequest('', 'c1', { instance: 'billing-0' }), '10.0.0.1'));

  it('replaces a restarted instance in a Stable group, stores the replacement, then answers it', () => {
    const t = shardFixture();
    staticJoin(t);
    const original = syncStaticLeader(t);
    const restarted = staticJoin(t);
    expect(restarted.records).toEqual([
      {
        type: 'static-member-replaced',
        groupId: GROUP,
        previousId: original,
        spec: spec('billing-0-id2', 'c1', 'billing-0'),
        atMs: t.now(),
        failure: expect.objectContaining({ reason: ErrorReason.FENCED_INSTANCE_ID }),
      },
      {
        type: 'join-held',
        groupId: GROUP,
        memberId: 'billing-0-id2',
        held: expect.any(HeldResponse),
      },
    ]);
    expect(restarted.result.notices).toEqual([
      expect.objectContaining({
        kind: 'member',
        memberId: original,
        final: true,
        event: expect.objectContaining({
          type: MembershipEventType.MEMBERSHIP_EVENT_TYPE_MEMBER_REMOVED,
        }),
      }),
    ]);
    expect(restarted.following.map(typesOf)).toEqual([['group-metadata'], ['join-answered']]);
    const stored = restarted.following[0][0];
    expect(stored).toMatchObject({
      value: {
        generationId: 1,
        leader: 'billing-0-id2',
        members: [{ memberId: 'billing-0-id2', assignment: Buffer.from('P0-P3') }],
      },
    });
    expect(t.group().state).toBe(GroupState.GROUP_STATE_STABLE);
    expect(t.group().generationId).toBe(1);
  });
});

describe('broker/coordinator/shard: a restarted static member’s subscription', () => {
  /** A consumer's metadata as it really differs across a restart: owned partitions and generation. */
  const metadata = (topics: string[], owned: number[], generationId: number) =>
    Buffer.from(
      ConsumerSubscription.encode({
        topics,
        userData: Buffer.alloc(0),
        ownedPartitions: owned.length ? [{ topic: topics[0], partitions: owned }] : [],
        generationId,
      }).finish(),
    );
  const stableStaticGroup = (t: ReturnType<typeof shardFixture>) => {
    t.run(
      joinGroup(
        joinRequest('', 'c1', {
          instance: 'billing-0',
          protocols: [{ name: 'range', metadata: metadata(['patient.checkout'], [], -1) }],
        }),
        '10.0.0.1',
      ),
    );
    syncStaticLeader(t);
  };
  const restart = (t: ReturnType<typeof shardFixture>, topics: string[]) =>
    t.run(
      joinGroup(
        joinRequest('', 'c1', {
          instance: 'billing-0',
          protocols: [{ name: 'range', metadata: metadata(topics, [0, 1, 2, 3], 1) }],
        }),
        '10.0.0.1',
      ),
    );

  it('is the same when only what it owns differs: no rebalance, its place is taken over', () => {
    const t = shardFixture();
    stableStaticGroup(t);
    const restarted = restart(t, ['patient.checkout']);
    expect(restarted.following.map(typesOf)).toEqual([['group-metadata'], ['join-answered']]);
    expect(t.group().generationId).toBe(1);
    expect(t.group().state).toBe(GroupState.GROUP_STATE_STABLE);
  });

  it('changed when it subscribes to other topics: the group rebalances', () => {
    const t = shardFixture();
    stableStaticGroup(t);
    restart(t, ['patient.checkout', 'lab.results']);
    expect(t.group().generationId).toBe(2);
  });
});

describe('broker/coordinator/shard: maxGroupSize at every join step', () => {
  const refusal = expect.objectContaining({ reason: ErrorReason.GROUP_MAX_SIZE_REACHED });
  const issue = (t: ReturnType<typeof shardFixture>, clientId: string) =>
    t.run(joinGroup(joinRequest('', clientId), '10.0.0.1'));

  it('bounds the ids handed out: members and pending joiners together stay within the limit, and an expired id frees its place', () => {
    const t = shardFixture({ maxGroupSize: 3 });
    for (const client of ['c1', 'c2', 'c3'])
      expect(typesOf(issue(t, client).records)).toEqual(['member-id-issued']);
    for (const client of ['c4', 'c5'])
      expect(() => issue(t, client)).toThrow(
        /already has 0 members and 3 joining, the most it may have is 3/,
      );
    expect(t.group().pendingMembers.size).toBe(3);
    t.advance(SESSION);
    expect(t.group().pendingMembers.size).toBe(0);
    expect(typesOf(issue(t, 'c6').records)).toEqual(['member-id-issued']);
  });

  it('checks again at the second step: joins that each passed the first step cannot overshoot together', () => {
    // The initial delay keeps the group gathering members while they arrive.
    const t = shardFixture({ maxGroupSize: 2, initialRebalanceDelayMs: 3_000 });
    const first = issue(t, 'c1').records[0];
    const second = issue(t, 'c2').records[0];
    // A static member needs no id first: it fills a place while c1 and c2 are between steps.
    t.run(joinGroup(joinRequest('', 'static', { instance: 'billing-0' }), '10.0.0.1'));
    if (first?.type !== 'member-id-issued' || second?.type !== 'member-id-issued')
      throw new Error('expected two ids');
    const c1 = t.run(joinGroup(joinRequest(first.memberId, 'c1'), '10.0.0.1'));
    const c2 = t.run(joinGroup(joinRequest(second.memberId, 'c2'), '10.0.0.1'));
    expect(typesOf(c1.records)).toEqual(['member-added', 'join-held']);
    expect(c2.records).toEqual([
      { type: 'pending-member-removed', groupId: GROUP, memberId: second.memberId },
    ]);
    expect(c2.result.response).toEqual({ error: refusal });
    expect(t.group().members.size).toBe(2);
    expect(t.group().pendingMembers.size).toBe(0);
  });

  it('turns away a known member over a lowered limit when it rejoins, as Kafka does, so the group settles at its size', () => {
    const t = shardFixture({ initialRebalanceDelayMs: 1_000 });
    const members = ['c1', 'c2', 'c3'].map((client) => joinNew(t, client, joinGroup).memberId);
    t.advance(1_000); // one generation of all three
    const [leader] = members;
    for (const memberId of members)
      t.run(syncGroup(syncRequest(memberId, 1, memberId === leader ? { [leader]: 'P0-P3' } : {})));
    expect(t.group().state).toBe(GroupState.GROUP_STATE_STABLE);
    t.config.maxGroupSize = 2;
    const rejoins = members.map((memberId, index) =>
      t.run(joinGroup({ ...joinRequest(memberId, `c${index + 1}`), reason: 'rejoin' }, '10.0.0.1')),
    );
    expect(rejoins.slice(0, 2).map(({ result }) => 'held' in (result.response ?? {}))).toEqual([
      true,
      true,
    ]);
    expect(typesOf(rejoins[2].records)).toEqual(['member-removed']);
    expect(rejoins[2].result.response).toEqual({ error: refusal });
    expect([...t.group().members.keys()]).toEqual(members.slice(0, 2));
  });
});
