import { ErrorReason, GroupState, RebalanceTrigger } from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';
import { HeldResponse } from '../runtime/held-response';
import {
  GROUP,
  joinNew,
  joinRequest,
  shardFixture,
  syncRequest,
  typesOf,
} from '../testing/shard-fixture';
import { joinGroup } from './join';
import { syncGroup } from './sync';

/** Two members that have both rejoined generation 2: leader c1, follower c2. */
function completing() {
  const t = shardFixture();
  const leader = joinNew(t, 'c1', joinGroup);
  t.run(syncGroup(syncRequest(leader.memberId, 1)));
  const follower = joinNew(t, 'c2', joinGroup);
  t.run(joinGroup(joinRequest(leader.memberId, 'c1'), '10.0.0.1'));
  expect(t.group().state).toBe(GroupState.GROUP_STATE_COMPLETING_REBALANCE);
  return { t, leader: leader.memberId, follower: follower.memberId };
}

describe('broker/coordinator/shard: SyncGroup records', () => {
  it("holds a follower's SyncGroup with one record and no write", () => {
    const { t, follower } = completing();
    const { result, following } = t.run(syncGroup(syncRequest(follower, 2)));
    expect(result.records).toEqual([
      { type: 'sync-held', groupId: GROUP, memberId: follower, held: expect.any(HeldResponse) },
    ]);
    expect(following).toEqual([]);
    expect(t.group().pendingSync).toEqual(new Set([t.group().leaderId]));
  });

  it("writes the leader's assignment as the group's metadata, and answers every held SyncGroup only after replaying it", () => {
    const { t, leader, follower } = completing();
    t.run(syncGroup(syncRequest(follower, 2)));
    const leaderSync = t.handle(
      syncGroup(syncRequest(leader, 2, { [leader]: 'P0,P1', [follower]: 'P2,P3' })),
    );
    expect(typesOf(leaderSync.records)).toEqual(['sync-held']);
    t.apply({ records: leaderSync.records });
    const store = t.handle(leaderSync.then!);
    expect(store.records).toEqual([
      {
        type: 'group-metadata',
        groupId: GROUP,
        value: {
          protocolType: 'consumer',
          generationId: 2,
          protocolName: 'range',
          leader,
          stateTimestampMs: t.now(),
          members: [
            expect.objectContaining({ memberId: leader, assignment: Buffer.from('P0,P1') }),
            expect.objectContaining({ memberId: follower, assignment: Buffer.from('P2,P3') }),
          ],
        },
      },
    ]);
    // Until the record is replayed, nothing is assigned and the group is still completing.
    expect(t.group().state).toBe(GroupState.GROUP_STATE_COMPLETING_REBALANCE);
    expect(t.group().member(follower)?.assignment).toEqual(Buffer.alloc(0));
    const answers = t.apply(store);
    expect(answers).toEqual([
      [
        {
          type: 'sync-answered',
          groupId: GROUP,
          memberId: leader,
          answer: {
            value: {
              protocolType: 'consumer',
              protocolName: 'range',
              assignment: Buffer.from('P0,P1'),
            },
          },
        },
        {
          type: 'sync-answered',
          groupId: GROUP,
          memberId: follower,
          answer: {
            value: {
              protocolType: 'consumer',
              protocolName: 'range',
              assignment: Buffer.from('P2,P3'),
            },
          },
        },
      ],
    ]);
    expect(t.group().state).toBe(GroupState.GROUP_STATE_STABLE);
  });

  it('leaves the group as it was when the write fails, and fails every held SyncGroup with the retriable error', () => {
    const { t, leader, follower } = completing();
    t.run(syncGroup(syncRequest(follower, 2)));
    const leaderSync = t.handle(
      syncGroup(syncRequest(leader, 2, { [leader]: 'a', [follower]: 'b' })),
    );
    t.apply({ records: leaderSync.records });
    const store = t.handle(leaderSync.then!);
    const failure = new BrokerError(ErrorReason.COORDINATOR_NOT_AVAILABLE, 'disk full');
    const failed = t.run(store.onWriteFailed!(failure));
    expect(failed.records).toEqual([
      { type: 'sync-answered', groupId: GROUP, memberId: leader, answer: { error: failure } },
      { type: 'sync-answered', groupId: GROUP, memberId: follower, answer: { error: failure } },
    ]);
    expect(t.group()).toMatchObject({
      state: GroupState.GROUP_STATE_COMPLETING_REBALANCE,
      generationId: 2,
      leaderId: leader,
    });
    expect(t.group().member(leader)?.assignment).toEqual(Buffer.alloc(0));
  });

  it('stores nothing for a leader whose generation a rebalance has already replaced', () => {
    const { t, leader } = completing();
    const leaderSync = t.handle(syncGroup(syncRequest(leader, 2, { [leader]: 'a' })));
    t.apply({ records: leaderSync.records });
    joinNew(t, 'c3', joinGroup);
    expect(t.group().state).toBe(GroupState.GROUP_STATE_PREPARING_REBALANCE);
    expect(t.handle(leaderSync.then!).records).toEqual([]);
  });

  it('drops members that never sync when the sync timer fires, and rebalances the rest', () => {
    const t = shardFixture();
    const issued = t.run(joinGroup(joinRequest('', 'c1', { rebalanceTimeoutMs: 5_000 }), 'h'));
    const memberId = (issued.records[0] as { memberId: string }).memberId;
    t.run(joinGroup(joinRequest(memberId, 'c1', { rebalanceTimeoutMs: 5_000 }), 'h'));
    expect(t.scheduled('sync')).toEqual([{ kind: 'sync', groupId: GROUP, generationId: 1 }]);
    const fired = t.advance(5_000);
    expect(fired.map(typesOf)).toEqual([
      ['member-removed'],
      ['rebalance-started'],
      ['join-completed'],
      ['group-metadata'],
    ]);
    expect(fired[1][0]).toMatchObject({
      trigger: RebalanceTrigger.REBALANCE_TRIGGER_REJOIN_TIMEOUT,
    });
    expect(t.group().state).toBe(GroupState.GROUP_STATE_EMPTY);
  });

  it('answers a SyncGroup in Stable with the assignment and a heartbeat record', () => {
    const t = shardFixture();
    const { memberId } = joinNew(t, 'c1', joinGroup);
    t.run(syncGroup(syncRequest(memberId, 1, { [memberId]: 'all' })));
    const again = t.run(syncGroup(syncRequest(memberId, 1)));
    expect(again.records).toEqual([
      { type: 'member-heartbeat', groupId: GROUP, memberId, atMs: t.now() },
    ]);
    expect(again.result.response).toEqual({
      value: { protocolType: 'consumer', protocolName: 'range', assignment: Buffer.from('all') },
    });
  });
});
