import { status } from '@grpc/grpc-js';
import {
  ConsumerAssignment,
  crc32c,
  encodeRecordBatch,
  RecordSet,
  ErrorReason,
  OPERATOR_RESET_METADATA,
} from '@hospital/proto';
import { BrokerClientError } from '../errors';
import { Instrumentation } from '../instrumentation';
import { DEFAULT_RETRY } from '../retry';
import { RangeAssignor, CooperativeStickyAssignor } from './assignors';
import type { ConsumerEvents } from './consumer-options';
import { Fetcher } from './fetcher';
import { GroupMembership } from './membership';
import { OffsetCommitter } from './offset-committer';
import { OwnedPartitions } from './partition-state';
import { Rebalancer } from './rebalancer';
import { StartingPositions } from './starting-positions';
import { deferred, fakeConnection } from './testing/fake-connection';
import { tpKey } from './topic-partition';

const TOPIC = 'patient.checkout';
const RETRY = { ...DEFAULT_RETRY, retries: 0, initialBackoffMs: 1, maxBackoffMs: 1 };

const recordBatch = (firstOffset: number, count: number) => {
  const batch = encodeRecordBatch(
    Array.from({ length: count }, (_, index) => ({ key: null, value: Buffer.from(`r${index}`) })),
    { producerId: 'test', now: 0 },
  );
  return { ...batch, baseOffset: firstOffset };
};

/** A member of group billing that has joined as m1 (no callbacks needed). */
function membershipFor(
  connection: ReturnType<typeof fakeConnection>['connection'],
  assignor: RangeAssignor | CooperativeStickyAssignor,
  heartbeatIntervalMs: number,
): GroupMembership {
  const membership = new GroupMembership(
    connection,
    {
      groupId: 'billing',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 15_000,
      heartbeatIntervalMs,
      assignors: [assignor],
      retry: RETRY,
    },
    () => {},
    () => {},
    () => {},
  );
  membership.memberId = 'm1';
  return membership;
}

/** A ListOffsets answer putting every asked partition at `offset`. */
const listedAt = (offset: number) => (request: { topic: string; partitions: number[] }) => ({
  topic: request.topic,
  partitions: request.partitions.map((partition) => ({ partition, offset, timestampMs: 0 })),
});

const positionsFor = (
  connection: ReturnType<typeof fakeConnection>['connection'],
  storedOffset?: () => Promise<number | undefined>,
) =>
  new StartingPositions(connection, {
    groupId: 'billing',
    fromBeginning: true,
    retry: RETRY,
    storedOffset,
  });

describe('broker-client/consumer/PartitionState', () => {
  it('drops everything about a partition on revoke: a reassigned partition starts unpaused, unsought, unpositioned', () => {
    const owned = new OwnedPartitions();
    const [state] = owned.assign([tpKey(TOPIC, 0)]);
    state.position = 40;
    state.paused = true;
    state.seek(10);
    state.markProcessed(12);
    expect(owned.assign([tpKey(TOPIC, 0)])).toEqual([]); // already owned: kept as is
    owned.revoke([tpKey(TOPIC, 0)]);
    expect(owned.has(state)).toBe(false);
    const [again] = owned.assign([tpKey(TOPIC, 0)]);
    expect(again).toMatchObject({
      paused: false,
      seeks: 0,
      position: undefined,
      processed: undefined,
    });
  });
});

describe('broker-client/consumer/StartingPositions', () => {
  it('resumes from the later of the committed and the stored offset, and from the log start without either', async () => {
    const fake = fakeConnection({
      offsetFetch: () => ({
        topics: [
          {
            name: TOPIC,
            partitions: [
              { partition: 0, committedOffset: 5, metadata: '', commitTimestampMs: 1 },
              { partition: 1, committedOffset: -1, metadata: '', commitTimestampMs: 0 },
            ],
          },
        ],
      }),
      listOffsets: listedAt(3),
    });
    const owned = new OwnedPartitions();
    const states = owned.assign([tpKey(TOPIC, 0), tpKey(TOPIC, 1)]);
    await positionsFor(fake.connection, async () => 8).initialize(states);
    expect(states.map((state) => [state.position, state.committed])).toEqual([
      [8, 5],
      [8, undefined],
    ]);
    await positionsFor(fake.connection).initialize(new OwnedPartitions().assign([tpKey(TOPIC, 1)]));
    expect(fake.called('listOffsets')).toEqual([
      { topic: TOPIC, partitions: [1], spec: { spec: { $case: 'earliest', value: true } } },
    ]);
  });

  it("applies an operator's reset over the stored offset once, then resumes from where this member read on to, not from the stored offset the reset overruled", async () => {
    const fake = fakeConnection({
      offsetFetch: () => ({
        topics: [
          {
            name: TOPIC,
            partitions: [
              {
                partition: 0,
                committedOffset: 2,
                metadata: OPERATOR_RESET_METADATA,
                commitTimestampMs: 7,
              },
            ],
          },
        ],
      }),
    });
    const positions = positionsFor(fake.connection, async () => 50);
    const [first] = new OwnedPartitions().assign([tpKey(TOPIC, 0)]);
    await positions.initialize([first]);
    expect(first.position).toBe(2);
    first.markProcessed(9);
    positions.progressed(first);
    // Rejoined before committing (a session expired mid-replay): the reset is
    // still what the broker holds. Going to the stored 50 would cut the replay
    // short and leave the committed offset at 2 for good.
    const [second] = new OwnedPartitions().assign([tpKey(TOPIC, 0)]);
    await positions.initialize([second]);
    expect(second.position).toBe(10);
  });
});

describe('broker-client/consumer/Fetcher', () => {
  it('asks only for readable partitions, and drops answers for a partition revoked or sought while the fetch was out', async () => {
    const answer = deferred<void>();
    const fake = fakeConnection({
      fetch: async (request) => {
        await answer.promise;
        return {
          throttleMs: 0,
          topics: request.topics.map((topic) => ({
            name: topic.name,
            partitions: topic.partitions.map((slot) => ({
              partition: slot.partition,
              highWatermark: 100,
              logStartOffset: 0,
              batches: [recordBatch(slot.fetchOffset, 2)],
              error: undefined,
            })),
          })),
        };
      },
    });
    const owned = new OwnedPartitions();
    const [p0, p1, p2, p3, p4] = owned.assign(
      [0, 1, 2, 3, 4].map((partition) => tpKey(TOPIC, partition)),
    );
    [p0, p1, p2, p4].forEach((state) => (state.position = 10));
    p2.paused = true; // p3 has no position yet
    const fetcher = new Fetcher(fake.connection, owned, positionsFor(fake.connection), {
      maxWaitMs: 100,
      maxBytesPerPartition: 1024,
      retry: RETRY,
    });
    const fetched = fetcher.fetch();
    owned.revoke([p1.key]);
    p4.seek(20);
    const [asked] = fake.called('fetch') as { topics: { partitions: { partition: number }[] }[] }[];
    expect(asked.topics[0].partitions.map((slot) => slot.partition)).toEqual([0, 1, 4]);
    expect(p3.position).toBeUndefined();
    answer.resolve();
    const batches = await fetched;
    expect(
      batches.map((batch) => [batch.state.partition, batch.records.map((record) => record.offset)]),
    ).toEqual([[0, [10, 11]]]);
  });

  it('gives back nothing when interrupted, and resets an out-of-range partition by policy', async () => {
    const fake = fakeConnection({
      fetch: (_request, { signal }) =>
        new Promise((_resolve, reject) =>
          signal?.addEventListener('abort', () =>
            reject(
              new BrokerClientError(
                'cancelled',
                ErrorReason.ERROR_REASON_UNSPECIFIED,
                status.CANCELLED,
                false,
              ),
            ),
          ),
        ),
      listOffsets: listedAt(0),
    });
    const owned = new OwnedPartitions();
    const [state] = owned.assign([tpKey(TOPIC, 0)]);
    state.position = 500;
    const fetcher = new Fetcher(fake.connection, owned, positionsFor(fake.connection), {
      maxWaitMs: 100,
      maxBytesPerPartition: 1024,
      retry: RETRY,
    });
    const fetched = fetcher.fetch();
    fetcher.interrupt();
    expect(await fetched).toEqual([]);
    fake.handlers.fetch = () => {
      throw new BrokerClientError(
        'offset 500 is past the end',
        ErrorReason.OFFSET_OUT_OF_RANGE,
        status.OUT_OF_RANGE,
        false,
      );
    };
    expect(await fetcher.fetch()).toEqual([]);
    expect(state.position).toBe(0);
  });

  it('moves past a compacted batch whose remaining records are all behind the position (or that has none left)', async () => {
    // Offsets 10..14 in one batch, of which the cleaner kept only 10 and 11.
    const sparse = { ...recordBatch(10, 5), recordCount: 5 };
    const kept = RecordSet.decode(sparse.records).records.slice(0, 2);
    const records = Buffer.from(RecordSet.encode({ records: kept }).finish());
    const batch = { ...sparse, records, crc: crc32c(records) };
    const fake = fakeConnection({
      fetch: (request) => ({
        throttleMs: 0,
        topics: request.topics.map((topic) => ({
          name: topic.name,
          partitions: topic.partitions.map((slot) => ({
            partition: slot.partition,
            highWatermark: 20,
            logStartOffset: 0,
            batches: [batch],
            error: undefined,
          })),
        })),
      }),
    });
    const owned = new OwnedPartitions();
    const [state] = owned.assign([tpKey(TOPIC, 0)]);
    state.position = 12; // 10 and 11 were processed
    const fetcher = new Fetcher(fake.connection, owned, positionsFor(fake.connection), {
      maxWaitMs: 100,
      maxBytesPerPartition: 1024,
      retry: RETRY,
    });
    expect(await fetcher.fetch()).toEqual([]);
    expect(state.position).toBe(15);
  });
});

function committerWith(mode: 'sync' | 'async' | 'manual', commit: () => Promise<object>) {
  const fake = fakeConnection({ offsetCommit: commit });
  const membership = membershipFor(fake.connection, new RangeAssignor(), 1_000);
  const owned = new OwnedPartitions();
  const rejoins: string[] = [];
  const fatal: Error[] = [];
  const committer = new OffsetCommitter(
    membership,
    owned,
    { groupId: 'billing', commitMode: mode, autoCommitIntervalMs: 5_000 },
    new Instrumentation<ConsumerEvents>(),
    (reason) => rejoins.push(reason),
    (error) => fatal.push(error),
  );
  return { fake, owned, committer, rejoins, fatal };
}

describe('broker-client/consumer/OffsetCommitter', () => {
  it('commits only what was processed and not yet committed, and remembers it', async () => {
    const t = committerWith('sync', async () => ({}));
    const [p0, p1] = t.owned.assign([tpKey(TOPIC, 0), tpKey(TOPIC, 1)]);
    p0.markProcessed(9);
    p1.markProcessed(4);
    p1.committed = 5;
    await t.committer.afterBatch();
    await t.committer.afterBatch();
    expect(t.fake.called('offsetCommit')).toEqual([
      expect.objectContaining({
        memberId: 'm1',
        topics: [
          { name: TOPIC, partitions: [{ partition: 0, committedOffset: 10, metadata: '' }] },
        ],
      }),
    ]);
    expect(p0.committed).toBe(10);
  });

  it('waits for the commit in sync mode, not in async mode, and never after a batch in manual mode', async () => {
    for (const mode of ['sync', 'async', 'manual'] as const) {
      const held = deferred<object>();
      const t = committerWith(mode, () => held.promise);
      t.owned.assign([tpKey(TOPIC, 0)])[0].markProcessed(1);
      let returned = false;
      const after = t.committer.afterBatch().then(() => (returned = true));
      await new Promise((resolve) => setImmediate(resolve));
      expect([mode, returned]).toEqual([mode, mode !== 'sync']);
      expect([mode, t.fake.called('offsetCommit').length]).toEqual([
        mode,
        mode === 'manual' ? 0 : 1,
      ]);
      held.resolve({});
      await after;
    }
  });

  it('asks for a rejoin when the group moved on, and fails the member on a refusal that will not pass', async () => {
    const refusal = (reason: ErrorReason, retriable: boolean) => async () => {
      throw new BrokerClientError(
        `refused: ${ErrorReason[reason]}`,
        reason,
        status.FAILED_PRECONDITION,
        retriable,
      );
    };
    const moved = committerWith('sync', refusal(ErrorReason.ILLEGAL_GENERATION, false));
    moved.owned.assign([tpKey(TOPIC, 0)])[0].markProcessed(1);
    await moved.committer.afterBatch();
    expect(moved.rejoins).toEqual(['refused: ILLEGAL_GENERATION']);
    const broken = committerWith('sync', refusal(ErrorReason.OFFSET_METADATA_TOO_LARGE, false));
    broken.owned.assign([tpKey(TOPIC, 0)])[0].markProcessed(1);
    await broken.committer.afterBatch();
    expect(broken.fatal.map((error) => error.message)).toEqual([
      'refused: OFFSET_METADATA_TOO_LARGE',
    ]);
  });
});

describe('broker-client/consumer/Rebalancer', () => {
  function rebalancerWith(assignor: RangeAssignor | CooperativeStickyAssignor, assigned: number[]) {
    const order: string[] = [];
    const fake = fakeConnection({
      joinGroup: () => ({
        generationId: 2,
        memberId: 'm1',
        leader: 'other',
        protocolName: assignor.name,
        protocolType: 'consumer',
        members: [],
      }),
      syncGroup: () => ({
        protocolType: 'consumer',
        protocolName: assignor.name,
        assignment: Buffer.from(
          ConsumerAssignment.encode({
            partitions: [{ topic: TOPIC, partitions: assigned }],
            userData: Buffer.alloc(0),
          }).finish(),
        ),
      }),
      offsetCommit: () => (order.push('commit'), {}),
      offsetFetch: (request) => ({
        topics: request.topics.map((topic) => ({
          name: topic.name,
          partitions: topic.partitions.map((partition) => ({
            partition,
            committedOffset: 0,
            metadata: '',
            commitTimestampMs: 0,
          })),
        })),
      }),
      heartbeat: () => ({}),
    });
    const events = new Instrumentation<ConsumerEvents>();
    events.on('consumer.revoke', ({ partitions }) =>
      order.push(`revoke ${partitions.map((p) => p.partition).join(',')}`),
    );
    events.on('consumer.group.join', ({ assignment }) =>
      order.push(`join ${assignment[TOPIC].join(',')}`),
    );
    const membership = membershipFor(fake.connection, assignor, 60_000);
    const owned = new OwnedPartitions();
    for (const state of owned.assign([0, 1, 2].map((partition) => tpKey(TOPIC, partition)))) {
      state.position = 5;
      state.markProcessed(6);
    }
    const committer = new OffsetCommitter(
      membership,
      owned,
      { groupId: 'billing', commitMode: 'sync', autoCommitIntervalMs: 5_000 },
      events,
      () => {},
      () => {},
    );
    const rejoins: string[] = [];
    const rebalancer = new Rebalancer(
      membership,
      owned,
      positionsFor(fake.connection),
      committer,
      events,
      {
        groupId: 'billing',
        cooperative: assignor.rebalanceProtocol === 'cooperative',
        retry: RETRY,
      },
      {
        topics: () => [TOPIC],
        isRunning: () => true,
        interrupt: () => {},
        crash: (error) => {
          throw error;
        },
      },
    );
    events.on('consumer.rebalancing', ({ reason }) => rejoins.push(reason));
    return { rebalancer, owned, order, rejoins, membership };
  }

  it('eager: commits, gives up every partition, then takes the new assignment', async () => {
    const t = rebalancerWith(new RangeAssignor(), [1, 2]);
    await t.rebalancer.maybeRebalance();
    expect(t.order).toEqual(['commit', 'revoke 0,1,2', 'join 1,2']);
    expect(t.owned.keys()).toEqual([tpKey(TOPIC, 1), tpKey(TOPIC, 2)]);
    t.membership.stopHeartbeats();
  });

  it('cooperative: keeps what stays, gives up only what moves, and rejoins so it reaches its new owner', async () => {
    const t = rebalancerWith(new CooperativeStickyAssignor(), [1, 2]);
    const kept = t.owned.get(tpKey(TOPIC, 1));
    await t.rebalancer.maybeRebalance();
    await t.rebalancer.settled();
    expect(t.order).toEqual(['commit', 'revoke 0', 'join 1,2']);
    expect(t.owned.get(tpKey(TOPIC, 1))).toBe(kept);
    expect(t.rejoins).toEqual(['revoked 1 partition(s) for their new owner']);
    t.membership.stopHeartbeats();
  });
});
