import { startBroker, type BrokerProcess } from '@hospital/processes';
import { BrokerConnection } from '../src/connection/broker-connection';
import { Consumer, type ConsumerOptions } from '../src/consumer/consumer';
import { Producer } from '../src/producer/producer';

describe('broker-client/Consumer against a real broker', () => {
  let broker: BrokerProcess;
  let connection: BrokerConnection;
  beforeAll(async () => {
    broker = await startBroker({
      env: { BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '200', BROKER_TOPICS: 'orders:4,steady:4' },
    });
    connection = new BrokerConnection({ broker: broker.address, clientId: 'consumer-test' });
  });
  afterAll(async () => {
    connection?.close();
    await broker?.stop();
    broker?.cleanup();
  });

  const consumerFor = (groupId: string, options: Partial<ConsumerOptions> = {}) =>
    new Consumer(connection, {
      groupId,
      sessionTimeoutMs: 3_000,
      rebalanceTimeoutMs: 5_000,
      heartbeatIntervalMs: 300,
      fromBeginning: true,
      maxWaitMs: 200,
      ...options,
    });

  /** Resolves when `predicate` holds, checked after every processed record. */
  function until(check: () => boolean, tick: (listener: () => void) => void): Promise<void> {
    return new Promise((resolve) => {
      if (check()) return resolve();
      tick(() => check() && resolve());
    });
  }

  it('shares a topic between two members: every record processed, order kept per partition, offsets committed to the end', async () => {
    const producer = new Producer(connection);
    await Promise.all(
      Array.from({ length: 2_000 }, (_, i) =>
        producer.send({ topic: 'orders', messages: [{ key: `K${i % 40}`, value: String(i) }] }),
      ),
    );
    const seen = new Map<string, number[]>();
    const listeners = new Set<() => void>();
    const handler = async ({ message }: { message: { key: Buffer | null; value: Buffer } }) => {
      const key = message.key!.toString();
      seen.set(key, [...(seen.get(key) ?? []), Number(message.value.toString())]);
      for (const listener of listeners) listener();
    };
    const consumers = [
      consumerFor('orders-group', { commitMode: 'sync' }),
      consumerFor('orders-group', { commitMode: 'sync' }),
    ];
    for (const consumer of consumers) consumer.subscribe({ topics: ['orders'] });
    await Promise.all(consumers.map((consumer) => consumer.run({ eachMessage: handler })));
    const total = () => [...seen.values()].reduce((sum, list) => sum + list.length, 0);
    await until(
      () => total() >= 2_000,
      (listener) => listeners.add(listener),
    );
    const shares = consumers.map((consumer) =>
      consumer.assignment().flatMap((owned) => owned.partitions),
    );
    for (const consumer of consumers) await consumer.stop();

    expect(new Set([...seen.values()].flat()).size).toBe(2_000);
    for (const values of seen.values()) expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(shares.sort()).toEqual([
      [0, 1],
      [2, 3],
    ]);
    const offsets = await connection.call('offsetFetch', {
      groupId: 'orders-group',
      topics: [{ name: 'orders', partitions: [] }],
    });
    const described = await connection.call('describeTopic', { name: 'orders' });
    expect(offsets.topics[0].partitions.map((partition) => partition.committedOffset)).toEqual(
      described.topic!.partitions.map((partition) => partition.logEndOffset),
    );
  });

  it("run() rejects when the first join fails for good, with the broker's reason", async () => {
    const consumer = consumerFor('refused-group', { sessionTimeoutMs: 1 });
    consumer.subscribe({ topics: ['orders'] });
    await expect(consumer.run({ eachMessage: async () => {} })).rejects.toMatchObject({
      reasonName: 'INVALID_SESSION_TIMEOUT',
    });
  });

  it('stop() ends a join that the broker never answers', async () => {
    const unreachable = new BrokerConnection({ broker: '127.0.0.1:1', clientId: 'nowhere' });
    const consumer = new Consumer(unreachable, { groupId: 'lonely', rebalanceTimeoutMs: 60_000 });
    consumer.subscribe({ topics: ['orders'] });
    const running = consumer.run({ eachMessage: async () => {} });
    await consumer.stop();
    await running;
    unreachable.close();
  });
});
