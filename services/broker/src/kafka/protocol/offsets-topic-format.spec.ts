import { ConsumerAssignment, ConsumerSubscription, internal } from '@hospital/proto';
import { encodeRecord } from '../../coordinator/records/record-codec';
import { compactBatch } from '../../storage/cleaner/compact-batch';
import { decodeKafkaAssignment, decodeKafkaSubscription } from './consumer-protocol';
import { KafkaReader } from './kafka-reader';
import { KafkaWriter } from './kafka-writer';
import { kafkaOffsetsRecord } from './offsets-topic-format';
import { decodeKafkaBatches } from './record-batch-v2';
import { toStoredBatch, writeStoredBatch } from './transcode';

/** A coordinator record as the Kafka listener serves it. */
function served(record: Parameters<typeof encodeRecord>[0]) {
  const { key, value } = encodeRecord(record);
  return kafkaOffsetsRecord({ key, value: value.length > 0 ? value : null });
}

const member = (memberId: string, groupInstanceId?: string) => ({
  memberId,
  groupInstanceId,
  clientId: `${memberId}-client`,
  host: '/127.0.0.1',
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 30_000,
  subscription: Buffer.from(
    ConsumerSubscription.encode(
      ConsumerSubscription.fromPartial({ topics: ['patient.checkout'], generationId: -1 }),
    ).finish(),
  ),
  assignment: Buffer.from(
    ConsumerAssignment.encode(
      ConsumerAssignment.fromPartial({
        partitions: [{ topic: 'patient.checkout', partitions: [1, 3] }],
      }),
    ).finish(),
  ),
});

const metadata = (members: ReturnType<typeof member>[]): internal.GroupMetadataValue => ({
  protocolType: 'consumer',
  generationId: 7,
  protocolName: 'range',
  leader: members[0]?.memberId ?? '',
  stateTimestampMs: 1_790_000_000_000,
  members,
});

describe('broker/kafka: __consumer_offsets in Kafka’s layout', () => {
  it('serves an offset commit as key version 1 and value version 3, and a deleted one as a tombstone', () => {
    const commit = served({
      type: 'offset-commit',
      groupId: 'billing',
      topic: 'patient.checkout',
      partition: 2,
      value: { offset: 1234, metadata: 'billing-1', commitTimestampMs: 1_790_000_000_500 },
    });
    const key = new KafkaReader(commit.key!);
    expect([key.int16(), key.string(), key.string(), key.int32(), key.remaining]).toEqual([
      1,
      'billing',
      'patient.checkout',
      2,
      0,
    ]);
    const value = new KafkaReader(commit.value!);
    expect([
      value.int16(),
      value.int64(),
      value.int32(),
      value.string(),
      value.int64(),
      value.remaining,
    ]).toEqual([3, 1234, -1, 'billing-1', 1_790_000_000_500, 0]);

    const deleted = served({
      type: 'offset-commit',
      groupId: 'billing',
      topic: 'patient.checkout',
      partition: 2,
      value: undefined,
    });
    expect(deleted.key).toEqual(commit.key);
    expect(deleted.value).toBeNull();
  });

  it("serves group metadata as version 1, with the broker's own clients' assignments in Kafka's consumer protocol", () => {
    const group = served({
      type: 'group-metadata',
      groupId: 'billing',
      value: metadata([member('billing-1'), member('billing-2')]),
    });
    const key = new KafkaReader(group.key!);
    expect([key.int16(), key.string()]).toEqual([2, 'billing']);
    const value = new KafkaReader(group.value!);
    expect([
      value.int16(),
      value.string(),
      value.int32(),
      value.nullableString(),
      value.nullableString(),
    ]).toEqual([1, 'consumer', 7, 'range', 'billing-1']);
    const members = value.array((r) => ({
      memberId: r.string(),
      clientId: r.string(),
      host: r.string(),
      rebalanceTimeoutMs: r.int32(),
      sessionTimeoutMs: r.int32(),
      subscription: decodeKafkaSubscription(r.bytes()).topics,
      assignment: decodeKafkaAssignment(r.bytes()),
    }));
    expect(value.remaining).toBe(0);
    expect(members[1]).toEqual({
      memberId: 'billing-2',
      clientId: 'billing-2-client',
      host: '/127.0.0.1',
      rebalanceTimeoutMs: 30_000,
      sessionTimeoutMs: 10_000,
      subscription: ['patient.checkout'],
      assignment: [{ topic: 'patient.checkout', partitions: [1, 3] }],
    });
  });

  it('serves a group with a static member as version 3 (instance ids), an Empty group with null protocol and leader, and a deleted group as a tombstone', () => {
    const withStatic = new KafkaReader(
      served({
        type: 'group-metadata',
        groupId: 'billing',
        value: metadata([member('billing-1', 'billing-a')]),
      }).value!,
    );
    expect([withStatic.int16(), withStatic.string(), withStatic.int32()]).toEqual([
      3,
      'consumer',
      7,
    ]);
    withStatic.nullableString();
    withStatic.nullableString();
    expect(withStatic.int64()).toBe(1_790_000_000_000);
    expect(withStatic.array((r) => [r.string(), r.nullableString()])).toHaveLength(1);

    const empty = new KafkaReader(
      served({
        type: 'group-metadata',
        groupId: 'billing',
        value: { ...metadata([]), protocolName: '' },
      }).value!,
    );
    expect([
      empty.int16(),
      empty.string(),
      empty.int32(),
      empty.nullableString(),
      empty.nullableString(),
      empty.array(() => 0),
    ]).toEqual([1, 'consumer', 7, null, null, []]);

    expect(served({ type: 'group-tombstone', groupId: 'billing' }).value).toBeNull();
  });
});

describe('broker/kafka: batches the cleaner rewrote', () => {
  it('keep their offset span when served, so a consumer skips the gap: an emptied batch is served empty, ending where it ended', () => {
    const stored = toStoredBatch(
      {
        baseOffset: 0,
        records: ['a', 'b', 'c'].map((key, index) => ({
          timestamp: 1_790_000_000_000 + index,
          key: Buffer.from(key),
          value: Buffer.from('v'),
          headers: [],
        })),
      },
      'p',
    );
    // A v2 batch says its lastOffsetDelta at byte 23 and its record count at byte 57.
    const servedAs = (payload: Buffer) => {
      const out = new KafkaWriter();
      writeStoredBatch(out, payload, true);
      const bytes = Buffer.from(out.view());
      const count = bytes.readInt32BE(57);
      return {
        lastOffsetDelta: bytes.readInt32BE(23),
        keys: count > 0 ? decodeKafkaBatches(bytes)[0].records.map((r) => r.key?.toString()) : [],
      };
    };
    const tailless = servedAs(compactBatch(stored, (r) => r.key === '61', false)!.payload);
    expect(tailless).toEqual({ lastOffsetDelta: 2, keys: ['a'] });
    expect(servedAs(compactBatch(stored, () => false, true)!.payload)).toEqual({
      lastOffsetDelta: 2,
      keys: [],
    });
  });
});
