import { Writable } from 'node:stream';
import { ErrorReason, GroupState } from '@hospital/proto';
import pino from 'pino';
import type { BrokerError } from '../../errors/broker-error';
import { GroupCoordinatorService } from '../group-coordinator-service';
import type { EncodedRecord } from '../records/record-codec';
import {
  GROUP,
  joinRequest,
  SESSION,
  syncRequest,
  TEST_CONFIG,
  TEST_TOPICS,
} from '../testing/shard-fixture';
import { CoordinatorRuntime, type CoordinatorLogWriter } from './coordinator-runtime';
import { ManualClock } from './timer';

/** __consumer_offsets in memory: each append can be held open or made to fail. */
class MemoryLog implements CoordinatorLogWriter {
  readonly records: EncodedRecord[] = [];
  failNext: Error | undefined;
  private held: (() => void)[] = [];
  holding = false;

  append(_groupId: string, records: EncodedRecord[]): Promise<void> {
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      return Promise.reject(error);
    }
    const write = () => void this.records.push(...records);
    if (!this.holding) {
      write();
      return Promise.resolve();
    }
    return new Promise((resolve) => this.held.push(() => (write(), resolve())));
  }

  release(): void {
    this.holding = false;
    for (const done of this.held.splice(0)) done();
  }

  readAll(): Iterable<EncodedRecord> {
    return this.records;
  }
}

function coordinator(log = new MemoryLog(), clock = new ManualClock()) {
  const lines: { msg: string; err?: { message: string } }[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    }),
  );
  let ids = 0;
  const runtime = new CoordinatorRuntime({
    log,
    clock,
    config: TEST_CONFIG,
    topics: TEST_TOPICS,
    newId: () => `id${++ids}`,
    logger,
  });
  const service = new GroupCoordinatorService(runtime, logger);
  return { log, clock, runtime, service, lines };
}

async function reasonOf(promise: Promise<unknown>): Promise<ErrorReason | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as BrokerError).reason;
  }
  return undefined;
}

/** The two-step join of a dynamic member; resolves to its id once the JoinGroup is held. */
async function joinNew(service: GroupCoordinatorService, clientId: string) {
  let memberId = '';
  try {
    await service.joinGroup(joinRequest('', clientId), 'h');
  } catch (error) {
    memberId = (error as BrokerError).metadata.member_id;
  }
  return { memberId, joined: service.joinGroup(joinRequest(memberId, clientId), 'h') };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('broker/coordinator/CoordinatorRuntime', () => {
  it('fails the held SyncGroups when the assignment cannot be written, and leaves the group as it was', async () => {
    const { log, service } = coordinator();
    const leader = await joinNew(service, 'c1');
    await leader.joined;
    await service.syncGroup(syncRequest(leader.memberId, 1));
    const follower = await joinNew(service, 'c2');
    await Promise.all([
      service.joinGroup(joinRequest(leader.memberId, 'c1'), 'h'),
      follower.joined,
    ]);
    const before = log.records.length;
    const followerSync = service.syncGroup(syncRequest(follower.memberId, 2));
    log.failNext = new Error('EIO: i/o error, fsync');
    const leaderSync = service.syncGroup(
      syncRequest(leader.memberId, 2, { [leader.memberId]: 'a', [follower.memberId]: 'b' }),
    );
    expect(await reasonOf(leaderSync)).toBe(ErrorReason.COORDINATOR_NOT_AVAILABLE);
    expect(await reasonOf(followerSync)).toBe(ErrorReason.COORDINATOR_NOT_AVAILABLE);
    const group = service.group(GROUP);
    expect(group).toMatchObject({
      state: GroupState.GROUP_STATE_COMPLETING_REBALANCE,
      generationId: 2,
      leaderId: leader.memberId,
    });
    expect(group?.member(follower.memberId)?.assignment).toEqual(Buffer.alloc(0));
    expect(log.records.length).toBe(before);
    // The members retry as the client does: rejoin (answered at once), sync again.
    const [again] = await Promise.all([
      service.joinGroup(joinRequest(leader.memberId, 'c1'), 'h'),
      service.joinGroup(joinRequest(follower.memberId, 'c2'), 'h'),
    ]);
    expect(again.generationId).toBe(2);
    const retried = service.syncGroup(syncRequest(follower.memberId, 2));
    await service.syncGroup(syncRequest(leader.memberId, 2, { [follower.memberId]: 'b' }));
    expect((await retried).assignment).toEqual(Buffer.from('b'));
  });

  it("fails a restarted static member's JoinGroup when its replacement cannot be written, and keeps the old instance", async () => {
    const { log, service } = coordinator();
    const first = await service.joinGroup(joinRequest('', 'c1', { instance: 'billing-0' }), 'h');
    await service.syncGroup(
      syncRequest(first.memberId, 1, { [first.memberId]: 'P0-P3' }, 'billing-0'),
    );
    log.failNext = new Error('ENOSPC: no space left on device, write');
    const restarted = service.joinGroup(joinRequest('', 'c1', { instance: 'billing-0' }), 'h');
    expect(await reasonOf(restarted)).toBe(ErrorReason.COORDINATOR_NOT_AVAILABLE);
    const group = service.group(GROUP);
    expect(group?.staticMembers.get('billing-0')).toBe(first.memberId);
    expect(group?.member(first.memberId)?.assignment).toEqual(Buffer.from('P0-P3'));
    expect(group).toMatchObject({ leaderId: first.memberId, generationId: 1 });
    expect(() =>
      service.heartbeat({
        groupId: GROUP,
        memberId: first.memberId,
        groupInstanceId: 'billing-0',
        generationId: 1,
      }),
    ).not.toThrow();
  });

  it('acknowledges a commit only once it is durable, and shows it only then', async () => {
    const { log, service, runtime } = coordinator();
    log.holding = true;
    let acknowledged = false;
    const commit = service
      .commitOffsets({
        groupId: GROUP,
        memberId: '',
        groupInstanceId: undefined,
        generationId: -1,
        topics: [
          {
            name: 'patient.checkout',
            partitions: [{ partition: 0, committedOffset: 42, metadata: '' }],
          },
        ],
      })
      .then(() => (acknowledged = true));
    await flush();
    expect(acknowledged).toBe(false);
    expect(runtime.shard.offsets.get(GROUP, 'patient.checkout', 0)).toBeUndefined();
    log.release();
    await commit;
    expect(runtime.shard.offsets.get(GROUP, 'patient.checkout', 0)?.offset).toBe(42);
  });

  it('logs a timer whose handler throws, and goes on serving', async () => {
    const { clock, service, runtime, lines } = coordinator();
    const member = await joinNew(service, 'c1');
    await member.joined;
    await service.syncGroup(syncRequest(member.memberId, 1));
    const replay = jest.spyOn(runtime.shard, 'replay').mockImplementationOnce(() => {
      throw new Error('replay bug');
    });
    clock.advance(SESSION + 1); // the session timer fires; its first replay throws
    replay.mockRestore();
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'coordinator step failed',
        err: expect.objectContaining({ message: 'replay bug' }),
      }),
    );
    // The failed step changed nothing: c1 is still a member, and the group takes c2 in.
    const next = await joinNew(service, 'c2');
    const [rejoined] = await Promise.all([
      service.joinGroup(joinRequest(member.memberId, 'c1'), 'h'),
      next.joined,
    ]);
    expect(rejoined.members.map((other) => other.memberId)).toEqual([
      member.memberId,
      next.memberId,
    ]);
  });

  it('rebuilds the same groups and offsets at start-up by replaying the log', async () => {
    const { log, service } = coordinator();
    const member = await joinNew(service, 'c1');
    await member.joined;
    await service.syncGroup(syncRequest(member.memberId, 1, { [member.memberId]: 'P0' }));
    await service.commitOffsets({
      groupId: GROUP,
      memberId: member.memberId,
      groupInstanceId: undefined,
      generationId: 1,
      topics: [{ name: 't', partitions: [{ partition: 2, committedOffset: 9, metadata: '' }] }],
    });
    await service.commitOffsets({
      groupId: 'gone',
      memberId: '',
      groupInstanceId: undefined,
      generationId: -1,
      topics: [{ name: 't', partitions: [{ partition: 0, committedOffset: 1, metadata: '' }] }],
    });
    await service.deleteGroup('gone');

    const restarted = coordinator(log);
    expect(restarted.service.load()).toEqual({
      groups: 1,
      offsets: 1,
      records: log.records.length,
    });
    expect(restarted.service.group(GROUP)).toMatchObject({
      state: GroupState.GROUP_STATE_STABLE,
      generationId: 1,
      leaderId: member.memberId,
    });
    expect(restarted.service.group(GROUP)?.member(member.memberId)?.assignment).toEqual(
      Buffer.from('P0'),
    );
    expect(restarted.runtime.shard.offsets.get(GROUP, 't', 2)?.offset).toBe(9);
    expect(restarted.service.group('gone')).toBeUndefined();
  });
});
