import { ErrorReason, RebalanceTrigger } from '@hospital/proto';
import {
  GROUP,
  joinNew,
  SESSION,
  shardFixture,
  syncRequest,
  typesOf,
} from '../testing/shard-fixture';
import { joinGroup } from './join';
import { leaveGroup } from './leave';
import { heartbeat } from './session';
import { syncGroup } from './sync';

function stable(...clients: string[]) {
  const t = shardFixture();
  const ids = clients.map((client) => joinNew(t, client, joinGroup).memberId);
  // Every member rejoins the generation the last join started, then syncs.
  for (const id of ids.slice(0, -1)) t.run(joinGroup({ ...joinRequestFor(id) }, '10.0.0.1'));
  const generation = t.group().generationId;
  for (const id of ids) t.run(syncGroup(syncRequest(id, generation)));
  return { t, ids, generation };
}

function joinRequestFor(memberId: string) {
  const clientId = memberId.split('-')[0];
  return {
    groupId: GROUP,
    sessionTimeoutMs: SESSION,
    rebalanceTimeoutMs: 30_000,
    memberId,
    groupInstanceId: undefined,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
    clientId,
    reason: '',
  };
}

describe('broker/coordinator/shard: heartbeats and sessions', () => {
  it('records a heartbeat, and answers REBALANCE_IN_PROGRESS with it while the group rebalances', () => {
    const { t, ids, generation } = stable('c1');
    const beat = t.run(
      heartbeat({
        groupId: GROUP,
        memberId: ids[0],
        groupInstanceId: undefined,
        generationId: generation,
      }),
    );
    expect(beat.records).toEqual([
      { type: 'member-heartbeat', groupId: GROUP, memberId: ids[0], atMs: t.now() },
    ]);
    expect(beat.result.response).toEqual({ value: undefined });
    joinNew(t, 'c2', joinGroup);
    const during = t.run(
      heartbeat({
        groupId: GROUP,
        memberId: ids[0],
        groupInstanceId: undefined,
        generationId: generation,
      }),
    );
    expect(typesOf(during.records)).toEqual(['member-heartbeat']);
    expect(during.result.response).toEqual({
      error: expect.objectContaining({ reason: ErrorReason.REBALANCE_IN_PROGRESS }),
    });
  });

  it('removes a silent member when its session timer fires and rebalances the rest', () => {
    const { t, ids, generation } = stable('c1', 'c2');
    t.advance(SESSION / 2);
    t.run(
      heartbeat({
        groupId: GROUP,
        memberId: ids[0],
        groupInstanceId: undefined,
        generationId: generation,
      }),
    );
    const fired = t.advance(SESSION / 2);
    expect(fired[0]).toEqual([
      {
        type: 'member-removed',
        groupId: GROUP,
        memberId: ids[1],
        failure: expect.objectContaining({
          reason: ErrorReason.UNKNOWN_MEMBER_ID,
          message: expect.stringContaining(`no heartbeat for ${SESSION} ms`),
        }),
      },
    ]);
    expect(fired[1]).toEqual([
      expect.objectContaining({
        type: 'rebalance-started',
        trigger: RebalanceTrigger.REBALANCE_TRIGGER_SESSION_TIMEOUT,
        reason: `c2 missed heartbeats for ${SESSION} ms`,
      }),
    ]);
  });

  it('extends the session of a member waiting in JoinGroup instead of removing it', () => {
    const { t, ids, generation } = stable('c1', 'c2');
    joinNew(t, 'c3', joinGroup);
    t.run(joinGroup(joinRequestFor(ids[0]), '10.0.0.1')); // c1 waits in JoinGroup for c2
    t.advance(SESSION / 2);
    t.run(
      heartbeat({
        groupId: GROUP,
        memberId: ids[1],
        groupInstanceId: undefined,
        generationId: generation,
      }),
    );
    const fired = t.advance(SESSION / 2);
    expect(fired).toContainEqual([{ type: 'session-extended', groupId: GROUP, memberId: ids[0] }]);
    expect(t.group().member(ids[0])).toBeDefined();
  });
});

describe('broker/coordinator/shard: LeaveGroup records', () => {
  it('removes the last member, ends the rebalance as Empty and stores the Empty group', () => {
    const { t, ids } = stable('c1');
    const left = t.run(
      leaveGroup({
        groupId: GROUP,
        members: [{ memberId: ids[0], groupInstanceId: undefined, reason: 'shutdown' }],
      }),
    );
    expect(left.records).toEqual([]);
    expect(left.following.map(typesOf)).toEqual([
      ['member-removed'],
      ['rebalance-started'],
      ['join-completed'],
      ['group-metadata'],
    ]);
    expect(left.following[1][0]).toMatchObject({
      trigger: RebalanceTrigger.REBALANCE_TRIGGER_MEMBER_LEFT,
      reason: 'c1 left: shutdown',
    });
    expect(left.following[2][0]).toMatchObject({ generationId: 2, leaderId: '', protocolName: '' });
    expect(left.following[3][0]).toMatchObject({ value: { generationId: 2, members: [] } });
  });

  it('checks every leaving member before anyone leaves', () => {
    const { t, ids } = stable('c1');
    expect(() =>
      t.handle(
        leaveGroup({
          groupId: GROUP,
          members: [
            { memberId: ids[0], groupInstanceId: undefined, reason: '' },
            { memberId: 'ghost', groupInstanceId: undefined, reason: '' },
          ],
        }),
      ),
    ).toThrow(expect.objectContaining({ reason: ErrorReason.UNKNOWN_MEMBER_ID }));
    expect(t.group().members.size).toBe(1);
  });
});
