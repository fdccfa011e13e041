import { ErrorReason, partitionForKey } from '@hospital/proto';
import { readPartition } from '@hospital/testing';
import { startBroker, type BrokerProcess } from '@hospital/processes';
import { BrokerConnection } from '../src/connection/broker-connection';
import { BrokerClientError } from '../src/errors';
import { Producer } from '../src/producer/producer';

const TOPIC = 'patient.checkout';

describe('broker-client/Producer against a real broker', () => {
  let broker: BrokerProcess;
  let connection: BrokerConnection;
  beforeAll(async () => {
    // Acknowledgements paced 20 ms apart, so requests in flight are slow enough to accumulate behind.
    broker = await startBroker({ env: { BROKER_FSYNC_MIN_INTERVAL_MS: '20' } });
    connection = new BrokerConnection({ broker: broker.address, clientId: 'producer-test' });
  });
  afterAll(async () => {
    connection?.close();
    await broker?.stop();
    broker?.cleanup();
  });

  const readTopicPartition = (partition: number) =>
    readPartition(async (offset) => {
      const response = await connection.call('fetch', {
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        topics: [
          { name: TOPIC, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 0 }] },
        ],
      });
      return response.topics[0].partitions[0].batches;
    });

  it('batches concurrent sends, keeps each key on its partition in send order, and reports every offset', async () => {
    const producer = new Producer(connection, { lingerMs: 10 });
    let requests = 0;
    producer.events.on('producer.batch', () => requests++);
    const sends = Array.from({ length: 2_000 }, (_, i) =>
      producer.send({ topic: TOPIC, messages: [{ key: `P-${i % 50}`, value: `event-${i}` }] }),
    );
    const metadata = (await Promise.all(sends)).flat();
    expect(requests).toBeLessThan(100);
    for (const [i, record] of metadata.entries())
      expect(record.partition).toBe(partitionForKey(`P-${i % 50}`, 4));

    const stored = (await Promise.all([0, 1, 2, 3].map(readTopicPartition))).flat();
    expect(stored).toHaveLength(2_000);
    const byKey = new Map<string, number[]>();
    for (const record of stored) {
      const key = record.key!.toString();
      byKey.set(key, [...(byKey.get(key) ?? []), Number(record.value.toString().split('-')[1])]);
    }
    for (const sequence of byKey.values())
      expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
    const offsetsSeen = new Set(metadata.map((record) => `${record.partition}:${record.offset}`));
    expect(offsetsSeen.size).toBe(2_000);
    await producer.disconnect();
  });

  it('accumulates records behind a request in flight into the next batch instead of queueing small requests', async () => {
    const producer = new Producer(connection, { lingerMs: 0 });
    const batches: number[] = [];
    producer.events.on('producer.batch', (batch) => batches.push(batch.records));
    const sends: Promise<unknown>[] = [];
    // One send per timer tick: without accumulation each would become its own request.
    for (let i = 0; i < 300; i++) {
      sends.push(producer.send({ topic: TOPIC, messages: [{ value: `tick-${i}`, partition: 3 }] }));
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    const offsets = (await Promise.all(sends)) as { offset: number }[][];
    await producer.disconnect();
    expect(batches.reduce((sum, records) => sum + records, 0)).toBe(300);
    expect(batches.length).toBeLessThan(100);
    // Still in send order.
    const sequence = offsets.map(([metadata]) => metadata.offset);
    expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
  });

  it('by default (linger 0) sends made in one turn of the event loop travel together, as one request', async () => {
    const producer = new Producer(connection);
    const batches: number[] = [];
    producer.events.on('producer.batch', (batch) => batches.push(batch.records));
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        producer.send({ topic: TOPIC, messages: [{ value: `same-turn-${i}`, partition: 2 }] }),
      ),
    );
    expect(batches).toEqual([200]);
    await producer.disconnect();
  });

  it('flushes records still lingering when it disconnects', async () => {
    const producer = new Producer(connection, { lingerMs: 60_000 });
    const pending = producer.send({
      topic: TOPIC,
      messages: [{ key: 'late', value: 'still delivered' }],
    });
    await producer.disconnect();
    const [record] = await pending;
    expect(record.offset).toBeGreaterThanOrEqual(0);
  });

  it('rejects a send to a topic that does not exist with a typed, non-retriable error', async () => {
    const producer = new Producer(connection);
    const failure = await producer
      .send({ topic: 'no.such.topic', messages: [{ value: 'x' }] })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BrokerClientError);
    expect(failure).toMatchObject({
      reason: ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
      retriable: false,
      reasonName: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
  });
});
