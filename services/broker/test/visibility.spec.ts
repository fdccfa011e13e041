import { Acks, decodeRecordBatch } from '@hospital/proto';
import { batchOf, type BrokerRpc } from './support/broker-rpc';
import { startTestBroker, type TestBroker } from './support/start-test-broker';

const TOPIC = 'visibility.test';

const produceUnwaited = (rpc: BrokerRpc, value: string) =>
  rpc.call('produce', {
    acks: Acks.ACKS_LEADER, // answered at once, before any fsync
    timeoutMs: 5_000,
    topics: [{ name: TOPIC, partitions: [{ partition: 0, batch: batchOf([{ value }]) }] }],
  });

const fetchFrom = (rpc: BrokerRpc, fetchOffset: number, maxWaitMs: number) =>
  rpc.call('fetch', {
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    topics: [{ name: TOPIC, partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: 0 }] }],
  });

const valuesOf = (response: Awaited<ReturnType<typeof fetchFrom>>) =>
  response.topics[0].partitions[0].batches.flatMap((batch) =>
    decodeRecordBatch(batch).map((record) => record.value.toString()),
  );

describe('broker at fsync durability: consumers see only durable records (the high watermark)', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    // fsyncs of a partition at least 1.5 s apart: the second record waits for its fsync.
    broker = await startTestBroker({
      BROKER_DURABILITY: 'fsync',
      BROKER_FSYNC_MIN_INTERVAL_MS: '1500',
    });
    await broker.rpc.call('createTopic', { name: TOPIC, partitions: 1, config: undefined });
  });
  afterAll(() => broker?.stop());

  it('serves a record only once fsynced, and a long-poll wakes when the fsync lands', async () => {
    const rpc = broker.rpc;
    await produceUnwaited(rpc, 'first'); // nobody fsynced lately: fsynced at once
    expect(valuesOf(await fetchFrom(rpc, 0, 5_000))).toEqual(['first']);

    await produceUnwaited(rpc, 'second'); // appended, its fsync paced 1.5 s after the first
    const early = await fetchFrom(rpc, 1, 0);
    expect(valuesOf(early)).toEqual([]);
    expect(early.topics[0].partitions[0].highWatermark).toBe(1);
    const latest = await rpc.call('listOffsets', {
      topic: TOPIC,
      partitions: [0],
      spec: { spec: { $case: 'latest', value: true } },
    });
    expect(latest.partitions[0].offset).toBe(1);

    // A long-poll far longer than the pacing returns as soon as the record is durable.
    const started = Date.now();
    const woken = await fetchFrom(rpc, 1, 60_000);
    expect(valuesOf(woken)).toEqual(['second']);
    expect(woken.topics[0].partitions[0].highWatermark).toBe(2);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
