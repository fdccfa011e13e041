import { startBroker, type BrokerProcess } from '@hospital/processes';
import { Admin } from '../src/admin/admin';
import { BrokerConnection } from '../src/connection/broker-connection';
import { Consumer, type ConsumerEvents, type ConsumerOptions } from '../src/consumer/consumer';
import { Producer } from '../src/producer/producer';

const TOPIC = 'features';

describe('broker-client/Consumer features: commit modes, eachBatch, pause/resume, seek', () => {
  let broker: BrokerProcess;
  let connection: BrokerConnection;
  let admin: Admin;
  beforeAll(async () => {
    broker = await startBroker({
      env: {
        BROKER_ADMIN_TOKEN: 'features',
        BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        BROKER_TOPICS: `${TOPIC}:1`,
      },
    });
    connection = new BrokerConnection({ broker: broker.address, adminToken: 'features' });
    admin = new Admin(connection);
    const producer = new Producer(connection);
    await producer.send({
      topic: TOPIC,
      messages: Array.from({ length: 100 }, (_, i) => ({ key: 'k', value: String(i) })),
    });
  });
  afterAll(async () => {
    connection?.close();
    await broker?.stop();
    broker?.cleanup();
  });

  const consumerFor = (groupId: string, options: Partial<ConsumerOptions> = {}) => {
    const consumer = new Consumer(connection, {
      groupId,
      fromBeginning: true,
      sessionTimeoutMs: 3_000,
      heartbeatIntervalMs: 100,
      maxWaitMs: 100,
      ...options,
    });
    consumer.subscribe({ topics: [TOPIC] });
    return consumer;
  };
  const next = <K extends keyof ConsumerEvents>(
    consumer: Consumer,
    event: K,
    accept: (payload: ConsumerEvents[K]) => boolean = () => true,
  ) =>
    new Promise<ConsumerEvents[K]>((resolve) => {
      const off = consumer.events.on(event, (payload) => {
        if (!accept(payload)) return;
        off();
        resolve(payload);
      });
    });

  it('eachBatch with manual commits: only what the application commits is stored', async () => {
    const consumer = consumerFor('manual', { commitMode: 'manual' });
    let seen = 0;
    let reached!: () => void;
    const all = new Promise<void>((resolve) => (reached = resolve));
    await consumer.run({
      eachBatch: async ({ batch, resolveOffset }) => {
        for (const message of batch.messages) resolveOffset(message.offset);
        seen += batch.messages.length;
        if (seen >= 100) reached();
      },
    });
    await all;
    await consumer.commitOffsets([{ topic: TOPIC, partition: 0, offset: 42 }]);
    await consumer.stop();
    expect(await admin.fetchOffsets('manual', TOPIC)).toMatchObject([{ partition: 0, offset: 42 }]);
  });

  it('auto commit stores processed offsets on its interval', async () => {
    const consumer = consumerFor('auto', { commitMode: 'auto', autoCommitIntervalMs: 100 });
    const committed = next(consumer, 'consumer.commit', (payload) =>
      payload.offsets.some((entry) => entry.offset === 100),
    );
    await consumer.run({ eachMessage: async () => {} });
    await committed;
    expect(await admin.fetchOffsets('auto', TOPIC)).toMatchObject([{ offset: 100 }]);
    await consumer.stop();
  });

  it('async commit commits after each batch without waiting for it', async () => {
    const consumer = consumerFor('async', { commitMode: 'async' });
    const committed = next(consumer, 'consumer.commit', (payload) =>
      payload.offsets.some((entry) => entry.offset === 100),
    );
    await consumer.run({ eachMessage: async () => {} });
    await committed;
    await consumer.stop();
    expect(await admin.fetchOffsets('async', TOPIC)).toMatchObject([{ offset: 100 }]);
  });

  it('pause stops delivery (across several heartbeats), resume restarts it, seek rewinds', async () => {
    const consumer = consumerFor('controls', { commitMode: 'sync' });
    const offsets: number[] = [];
    let listener: () => void = () => {};
    await consumer.run({
      eachMessage: async ({ message }) => {
        offsets.push(message.offset);
        listener();
      },
    });
    // Paused right after joining: a fetch already out is cancelled and its records dropped.
    consumer.pause([{ topic: TOPIC, partitions: [0] }]);
    const deliveredWhenPaused = offsets.length;
    for (let beats = 0; beats < 5; beats++) await next(consumer, 'consumer.heartbeat');
    expect(offsets.length).toBe(deliveredWhenPaused);
    const resumed = new Promise<void>(
      (resolve) => (listener = () => offsets.at(-1) === 99 && resolve()),
    );
    consumer.resume([{ topic: TOPIC, partitions: [0] }]);
    await resumed;

    const rewound = new Promise<void>(
      (resolve) => (listener = () => offsets.at(-1) === 10 && resolve()),
    );
    consumer.seek({ topic: TOPIC, partition: 0, offset: 10 });
    await rewound;
    await consumer.stop();
  });

  it('resumes from the later of the broker commit and the offset the application stored', async () => {
    const firstOffset = async (groupId: string, stored: number) => {
      const consumer = consumerFor(groupId, {
        commitMode: 'manual',
        storedOffset: async () => stored,
      });
      let first!: (offset: number) => void;
      const seen = new Promise<number>((resolve) => (first = resolve));
      await consumer.run({ eachMessage: async ({ message }) => first(message.offset) });
      const offset = await seen;
      await consumer.stop();
      return offset;
    };
    expect(await firstOffset('stored-only', 60)).toBe(60);
    await connection.call('offsetCommit', {
      groupId: 'broker-ahead',
      generationId: -1,
      memberId: '',
      groupInstanceId: undefined,
      topics: [{ name: TOPIC, partitions: [{ partition: 0, committedOffset: 80, metadata: '' }] }],
    });
    expect(await firstOffset('broker-ahead', 60)).toBe(80);
    // An operator's reset to earliest replays even though the application stored a later offset.
    await admin.resetOffsets('stored-only', TOPIC, { earliest: true });
    expect(await firstOffset('stored-only', 60)).toBe(0);
  });
});
