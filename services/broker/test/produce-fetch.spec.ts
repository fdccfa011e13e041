import { status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import {
  Acks,
  CleanupPolicy,
  decodeRecordBatch,
  ErrorReason,
  partitionForKey,
} from '@hospital/proto';
import { adminMetadata, batchOf, failureOf, readAll } from './support/broker-rpc';
import { grpcHealth } from './support/grpc-health';
import { ADMIN_TOKEN, startTestBroker, type TestBroker } from './support/start-test-broker';

const TOPIC = 'patient.checkout';

describe('broker over gRPC: topics, Produce and Fetch', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(() => broker?.stop());

  const rpc = () => broker.rpc;
  const client = () => broker.rpc.client;

  it('creates patient.checkout with 4 partitions on start', async () => {
    const described = await rpc().call('describeTopic', { name: TOPIC });
    expect(described.topic?.partitions.map((partition) => partition.partition)).toEqual([
      0, 1, 2, 3,
    ]);
  });

  it('takes 100,000 keyed records on 4 partitions and serves them back in order, dense from 0', async () => {
    await rpc().call('createTopic', { name: 'load.test', partitions: 4, config: undefined });
    const patients = 2_000;
    const total = 100_000;
    const perBatch = 500;
    // Each patient's events are numbered in order; each partition is fed by
    // its own sequential stream, the four streams running concurrently.
    const streams = new Map<number, { key: string; value: string }[]>();
    const sent = new Map<string, number>();
    for (let i = 0; i < total; i++) {
      const key = `P-${i % patients}`;
      const sequence = sent.get(key) ?? 0;
      sent.set(key, sequence + 1);
      const partition = partitionForKey(key, 4);
      const stream = streams.get(partition) ?? [];
      streams.set(partition, stream);
      stream.push({ key, value: `${key}#${sequence}#${'x'.repeat(250)}` });
    }
    await Promise.all(
      [...streams].map(async ([partition, records]) => {
        for (let start = 0; start < records.length; start += perBatch) {
          await rpc().call('produce', {
            acks: Acks.ACKS_LEADER,
            timeoutMs: 10_000,
            topics: [
              {
                name: 'load.test',
                partitions: [{ partition, batch: batchOf(records.slice(start, start + perBatch)) }],
              },
            ],
          });
        }
      }),
    );

    // Collect violations and assert once: a hundred thousand expect() calls would dominate the run.
    const partitionOfKey = new Map<string, number>();
    const violations: string[] = [];
    let count = 0;
    for (let partition = 0; partition < 4; partition++) {
      const records = await readAll(rpc(), 'load.test', partition);
      const lastSequence = new Map<string, number>();
      records.forEach((record, index) => {
        const key = record.key!.toString();
        const sequence = Number(record.value.toString().split('#')[1]);
        if (record.offset !== index)
          violations.push(`p${partition}: offset ${record.offset} at position ${index}`);
        if (sequence !== (lastSequence.get(key) ?? -1) + 1)
          violations.push(`${key}: #${sequence} out of order`);
        if ((partitionOfKey.get(key) ?? partition) !== partition)
          violations.push(`${key} on two partitions`);
        lastSequence.set(key, sequence);
        partitionOfKey.set(key, partition);
      });
      count += records.length;
    }
    expect(violations.slice(0, 10)).toEqual([]);
    expect(count).toBe(total);
    expect(partitionOfKey.size).toBe(patients);
  });

  it('partitions by key on the broker exactly as the client-side partitioner does', async () => {
    const records = Array.from({ length: 200 }, (_, i) => ({
      key: `patient-${i}`,
      value: `v${i}`,
    }));
    const response = await rpc().call('produce', {
      acks: Acks.ACKS_ALL,
      timeoutMs: 5_000,
      topics: [{ name: TOPIC, partitions: [{ partition: undefined, batch: batchOf(records) }] }],
    });
    expect(
      response.topics[0].partitions.reduce((sum, partition) => sum + partition.recordCount, 0),
    ).toBe(200);
    for (let partition = 0; partition < 4; partition++) {
      for (const record of await readAll(rpc(), TOPIC, partition)) {
        expect(partitionForKey(record.key!, 4)).toBe(partition);
      }
    }
  });

  it('answers a fetch beyond the log end with OFFSET_OUT_OF_RANGE and the valid range', async () => {
    const failure = await failureOf(
      rpc().call('fetch', {
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1000,
        topics: [
          {
            name: 'load.test',
            partitions: [{ partition: 0, fetchOffset: 10_000_000, partitionMaxBytes: 0 }],
          },
        ],
      }),
    );
    expect(failure.code).toBe(status.OUT_OF_RANGE);
    expect(failure.detail).toMatchObject({
      reason: ErrorReason.OFFSET_OUT_OF_RANGE,
      metadata: { log_start_offset: '0' },
    });
    expect(Number(failure.detail?.metadata.log_end_offset)).toBeGreaterThan(0);
  });

  it('holds a fetch at the log end until a record arrives (long poll)', async () => {
    const end = (await rpc().call('describeTopic', { name: TOPIC })).topic!.partitions[2]
      .logEndOffset;
    const waiting = rpc().call('fetch', {
      maxWaitMs: 20_000,
      minBytes: 1,
      maxBytes: 1000,
      topics: [
        { name: TOPIC, partitions: [{ partition: 2, fetchOffset: end, partitionMaxBytes: 0 }] },
      ],
    });
    await rpc().call('produce', {
      acks: Acks.ACKS_ALL,
      timeoutMs: 5_000,
      topics: [
        { name: TOPIC, partitions: [{ partition: 2, batch: batchOf([{ value: 'wake up' }]) }] },
      ],
    });
    const response = await waiting;
    const [record] = response.topics[0].partitions[0].batches.flatMap(decodeRecordBatch);
    expect(record).toMatchObject({ offset: end, value: Buffer.from('wake up') });
  });

  describe('bad input gets a clear status and reason', () => {
    it.each([
      [
        'an unknown topic',
        () => rpc().call('describeTopic', { name: 'no.such.topic' }),
        status.NOT_FOUND,
        ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
      ],
      [
        'an invalid topic name',
        () => rpc().call('createTopic', { name: 'bad name!', partitions: 1, config: undefined }),
        status.INVALID_ARGUMENT,
        ErrorReason.INVALID_TOPIC_EXCEPTION,
      ],
      [
        'a reserved topic name',
        () => rpc().call('createTopic', { name: '__mine', partitions: 1, config: undefined }),
        status.INVALID_ARGUMENT,
        ErrorReason.INVALID_TOPIC_EXCEPTION,
      ],
      [
        'zero partitions',
        () => rpc().call('createTopic', { name: 'zero', partitions: 0, config: undefined }),
        status.INVALID_ARGUMENT,
        ErrorReason.INVALID_PARTITIONS,
      ],
      [
        'an existing topic',
        () => rpc().call('createTopic', { name: TOPIC, partitions: 4, config: undefined }),
        status.ALREADY_EXISTS,
        ErrorReason.TOPIC_ALREADY_EXISTS,
      ],
      [
        'fewer partitions',
        () => rpc().call('createPartitions', { name: TOPIC, totalPartitions: 2 }),
        status.INVALID_ARGUMENT,
        ErrorReason.INVALID_PARTITIONS,
      ],
      [
        'a partition that does not exist',
        () =>
          rpc().call('produce', {
            acks: Acks.ACKS_ALL,
            timeoutMs: 1000,
            topics: [
              { name: TOPIC, partitions: [{ partition: 9, batch: batchOf([{ value: 'x' }]) }] },
            ],
          }),
        status.NOT_FOUND,
        ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
      ],
      [
        'a batch whose checksum does not match',
        () =>
          rpc().call('produce', {
            acks: Acks.ACKS_ALL,
            timeoutMs: 1000,
            topics: [
              {
                name: TOPIC,
                partitions: [{ partition: 0, batch: { ...batchOf([{ value: 'x' }]), crc: 1 } }],
              },
            ],
          }),
        status.DATA_LOSS,
        ErrorReason.CORRUPT_MESSAGE,
      ],
      [
        'a batch that lies about its record count',
        () =>
          rpc().call('produce', {
            acks: Acks.ACKS_ALL,
            timeoutMs: 1000,
            topics: [
              {
                name: TOPIC,
                partitions: [
                  { partition: 0, batch: { ...batchOf([{ value: 'x' }]), recordCount: 5 } },
                ],
              },
            ],
          }),
        status.INVALID_ARGUMENT,
        ErrorReason.INVALID_RECORD,
      ],
      [
        'a batch over the size limit',
        () =>
          rpc().call('produce', {
            acks: Acks.ACKS_ALL,
            timeoutMs: 1000,
            topics: [
              {
                name: TOPIC,
                partitions: [
                  { partition: 0, batch: batchOf([{ value: Buffer.alloc(1_100_000) }]) },
                ],
              },
            ],
          }),
        status.INVALID_ARGUMENT,
        ErrorReason.MESSAGE_TOO_LARGE,
      ],
      [
        'an unknown acks level',
        () =>
          rpc().call('produce', {
            acks: 9 as Acks,
            timeoutMs: 1000,
            topics: [
              { name: TOPIC, partitions: [{ partition: 0, batch: batchOf([{ value: 'x' }]) }] },
            ],
          }),
        status.INVALID_ARGUMENT,
        ErrorReason.INVALID_REQUIRED_ACKS,
      ],
      [
        'a write to an internal topic',
        () =>
          rpc().call('produce', {
            acks: Acks.ACKS_ALL,
            timeoutMs: 1000,
            topics: [
              {
                name: '__consumer_offsets',
                partitions: [{ partition: 0, batch: batchOf([{ value: 'x' }]) }],
              },
            ],
          }),
        status.PERMISSION_DENIED,
        ErrorReason.TOPIC_AUTHORIZATION_FAILED,
      ],
      [
        'a record without a key to a compacted topic',
        async () => {
          await rpc().call('createTopic', {
            name: 'compacted.test',
            partitions: 1,
            config: {
              retentionMs: 0,
              retentionBytes: 0,
              segmentBytes: 0,
              cleanupPolicy: CleanupPolicy.CLEANUP_POLICY_COMPACT,
            },
          });
          return rpc().call('produce', {
            acks: Acks.ACKS_ALL,
            timeoutMs: 1000,
            topics: [
              {
                name: 'compacted.test',
                partitions: [
                  { partition: 0, batch: batchOf([{ key: 'k', value: 'x' }, { value: 'no key' }]) },
                ],
              },
            ],
          });
        },
        status.INVALID_ARGUMENT,
        ErrorReason.INVALID_RECORD,
      ],
      [
        'a negative fetch size',
        () =>
          rpc().call('fetch', {
            maxWaitMs: 0,
            minBytes: 0,
            maxBytes: -1,
            topics: [
              { name: TOPIC, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 0 }] },
            ],
          }),
        status.INVALID_ARGUMENT,
        ErrorReason.INVALID_FETCH_SIZE,
      ],
      [
        'DeleteTopic without the admin token',
        () => rpc().call('deleteTopic', { name: TOPIC }),
        status.PERMISSION_DENIED,
        ErrorReason.CLUSTER_AUTHORIZATION_FAILED,
      ],
    ])('%s', async (_title, call, code, reason) => {
      const failure = await failureOf(call());
      expect(failure).toMatchObject({ code, detail: { reason } });
      expect(failure.message.length).toBeGreaterThan(10);
    });

    it('rejects bytes that are not a ProduceRequest without harming the broker', async () => {
      const raw = new Promise<ServiceError | null>((resolve) => {
        client().makeUnaryRequest(
          '/hospital.broker.v1.Broker/Produce',
          (value: Buffer) => value,
          (value: Buffer) => value,
          Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]),
          (error) => resolve(error),
        );
      });
      expect((await raw)?.code).toBeDefined();
      await expect(rpc().call('listTopics', { includeInternal: false })).resolves.toBeDefined();
    });
  });

  it('deletes a topic with the admin token', async () => {
    await rpc().call('createTopic', {
      name: 'short.lived',
      partitions: 2,
      config: undefined,
    });
    await rpc().call('deleteTopic', { name: 'short.lived' }, adminMetadata(ADMIN_TOKEN));
    const topics = await rpc().call('listTopics', { includeInternal: false });
    expect(topics.topics.map((topic) => topic.name)).not.toContain('short.lived');
  });

  it('serves the standard gRPC health service', async () => {
    expect(await grpcHealth(broker.running.address, '')).toBe('SERVING');
  });
});
