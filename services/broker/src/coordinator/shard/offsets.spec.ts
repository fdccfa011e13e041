import { ErrorReason, OPERATOR_RESET_METADATA, type OffsetCommitRequest } from '@hospital/proto';
import { GROUP, joinNew, shardFixture, syncRequest } from '../testing/shard-fixture';
import { deleteGroup, resetOffsets } from './group-admin';
import { joinGroup } from './join';
import { commitOffsets } from './offsets';
import { syncGroup } from './sync';

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
});
