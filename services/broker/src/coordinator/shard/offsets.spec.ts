import { ErrorReason, OPERATOR_RESET_METADATA, type OffsetCommitRequest } from '@hospital/proto';
import { GROUP, joinNew, shardFixture, syncRequest, typesOf } from '../testing/shard-fixture';
import { deleteGroup, expireGroups, resetOffsets } from './group-admin';
import { joinGroup } from './join';
import { leaveGroup } from './leave';
import { heartbeat } from './session';
import { commitOffsets } from './offsets';
import { syncGroup } from './sync';

const heartbeatOf = (memberId: string) =>
  heartbeat({ groupId: GROUP, memberId, generationId: 1, groupInstanceId: undefined });
const leaveOf = (memberId: string) =>
  leaveGroup({
    groupId: GROUP,
    members: [{ memberId, groupInstanceId: undefined, reason: 'done' }],
  });

const commit = (memberId: string, generationId: number, offset = 7): OffsetCommitRequest => ({
  groupId: GROUP,
  memberId,
  groupInstanceId: undefined,
  generationId,
  topics: [
    {
      name: 'patient.checkout',
      partitions: [{ partition: 1, committedOffset: offset, metadata: 'm' }],
    },
  ],
});

describe('broker/coordinator/shard: offsets', () => {
  it("returns a member's commit as its heartbeat and one offset record", () => {
    const t = shardFixture();
    const { memberId } = joinNew(t, 'c1', joinGroup);
    t.run(syncGroup(syncRequest(memberId, 1)));
    const { records } = t.run(commitOffsets(commit(memberId, 1)));
    expect(records).toEqual([
      { type: 'member-heartbeat', groupId: GROUP, memberId, atMs: t.now() },
      {
        type: 'offset-commit',
        groupId: GROUP,
        topic: 'patient.checkout',
        partition: 1,
        value: { offset: 7, metadata: 'm', commitTimestampMs: t.now() },
      },
    ]);
    expect(t.shard.offsets.get(GROUP, 'patient.checkout', 1)?.offset).toBe(7);
  });

  it('creates no group while checking a commit: the Empty group appears when its offset record is replayed', () => {
    const t = shardFixture();
    const result = t.handle(commitOffsets(commit('', -1)));
    expect(t.shard.group(GROUP)).toBeUndefined();
    t.apply(result);
    expect(t.shard.group(GROUP)?.members.size).toBe(0);
  });

  it('refuses a commit from outside the generation, with no records', () => {
    const t = shardFixture();
    expect(() => t.handle(commitOffsets(commit('someone', 3)))).toThrow(
      expect.objectContaining({ reason: ErrorReason.UNKNOWN_MEMBER_ID }),
    );
    const { memberId } = joinNew(t, 'c1', joinGroup);
    expect(() => t.handle(commitOffsets(commit(memberId, 1)))).toThrow(
      expect.objectContaining({ reason: ErrorReason.REBALANCE_IN_PROGRESS }),
    );
    expect(() =>
      t.handle(
        commitOffsets({
          ...commit(memberId, 1),
          topics: [
            {
              name: 'patient.checkout',
              partitions: [{ partition: 9, committedOffset: 1, metadata: '' }],
            },
          ],
        }),
      ),
    ).toThrow(expect.objectContaining({ reason: ErrorReason.UNKNOWN_TOPIC_OR_PARTITION }));
  });

  it('deletes a group as tombstones: each offset, then the group', () => {
    const t = shardFixture();
    t.run(commitOffsets(commit('', -1)));
    const { records, result } = t.run(deleteGroup(GROUP));
    expect(records).toEqual([
      {
        type: 'offset-commit',
        groupId: GROUP,
        topic: 'patient.checkout',
        partition: 1,
        value: undefined,
      },
      { type: 'group-tombstone', groupId: GROUP },
    ]);
    expect(result.notices).toEqual([{ kind: 'forget-group', groupId: GROUP }]);
    expect(t.shard.group(GROUP)).toBeUndefined();
    expect(t.shard.offsets.all(GROUP)).toEqual([]);
  });

  it('resets offsets as records marked by the operator, and writes none for a dry run', () => {
    const t = shardFixture();
    const request = {
      groupId: GROUP,
      topic: 'patient.checkout',
      partitions: [0],
      target: { target: { $case: 'earliest' as const, value: true } },
      dryRun: true,
    };
    const dry = t.run(resetOffsets(request));
    expect(dry.records).toEqual([]);
    expect(dry.result.response).toEqual({
      value: {
        changes: [{ topic: 'patient.checkout', partition: 0, previousOffset: -1, newOffset: 10 }],
      },
    });
    expect(t.run(resetOffsets({ ...request, dryRun: false })).records).toEqual([
      {
        type: 'offset-commit',
        groupId: GROUP,
        topic: 'patient.checkout',
        partition: 0,
        value: { offset: 10, metadata: OPERATOR_RESET_METADATA, commitTimestampMs: t.now() },
      },
    ]);
  });

  describe('offsets retention', () => {
    const DAY = 24 * 3_600_000;
    const commitFor = (groupId: string, memberId = '', generationId = -1) => ({
      ...commit(memberId, generationId),
      groupId,
    });

    it('deletes an Empty group idle past the retention with tombstones, one group per step, and keeps the rest', () => {
      const t = shardFixture({ offsetsRetentionMs: 7 * DAY });
      t.run(commitOffsets(commitFor('old-a')));
      t.run(commitOffsets(commitFor('old-b')));
      t.advance(6 * DAY);
      t.run(commitOffsets(commitFor('recent')));
      t.advance(DAY);
      const { records, following } = t.run(expireGroups());
      expect([records, ...following].map(typesOf)).toEqual([
        ['offset-commit', 'group-tombstone'],
        ['offset-commit', 'group-tombstone'],
        [],
      ]);
      expect(records[0]).toMatchObject({ groupId: 'old-a', value: undefined });
      expect([...t.shard.groups()].map((group) => group.groupId)).toEqual(['recent']);
      expect(t.shard.offsets.groupIds()).toEqual(['recent']);
    });

    it('keeps the offsets of a group with members, however old its last commit', () => {
      const t = shardFixture({ offsetsRetentionMs: 60_000 });
      t.run(commitOffsets(commit('', -1)));
      const { memberId } = joinNew(t, 'c1', joinGroup);
      t.run(syncGroup(syncRequest(memberId, 1)));
      for (let beat = 0; beat < 30; beat++) {
        t.advance(5_000);
        t.run(heartbeatOf(memberId));
      }
      expect(t.run(expireGroups()).records).toEqual([]);
      expect(t.shard.offsets.get(GROUP, 'patient.checkout', 1)?.offset).toBe(7);
    });

    it('counts from when the group emptied, not only its last commit', () => {
      const t = shardFixture({ offsetsRetentionMs: DAY });
      t.run(commitOffsets(commit('', -1)));
      t.advance(2 * DAY);
      const { memberId } = joinNew(t, 'c1', joinGroup);
      t.run(syncGroup(syncRequest(memberId, 1)));
      t.run(leaveOf(memberId));
      expect(t.run(expireGroups()).records).toEqual([]); // emptied just now
      t.advance(DAY);
      expect(typesOf(t.run(expireGroups()).records)).toEqual(['offset-commit', 'group-tombstone']);
    });

    it('lets a non-member commit (generation -1) only into an Empty group, and a deleted group comes back with only what is committed after', () => {
      const t = shardFixture();
      const { memberId } = joinNew(t, 'c1', joinGroup);
      t.run(syncGroup(syncRequest(memberId, 1)));
      expect(() => t.handle(commitOffsets(commit('', -1)))).toThrow(
        expect.objectContaining({ reason: ErrorReason.UNKNOWN_MEMBER_ID }),
      );
      t.run(leaveOf(memberId));
      t.run(commitOffsets(commit('', -1, 40)));
      t.run(deleteGroup(GROUP));
      t.run(
        commitOffsets({
          ...commit('', -1),
          topics: [
            {
              name: 'patient.checkout',
              partitions: [{ partition: 2, committedOffset: 3, metadata: '' }],
            },
          ],
        }),
      );
      expect(
        t.shard.offsets.all(GROUP).map(({ partition, offset }) => [partition, offset]),
      ).toEqual([[2, 3]]);
    });
  });
});
