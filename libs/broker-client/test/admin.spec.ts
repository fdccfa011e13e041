import { getEventListeners } from 'node:events';
import { ErrorReason, GroupState } from '@hospital/proto';
import { startBroker, type BrokerProcess } from '@hospital/processes';
import { Admin } from '../src/admin/admin';
import { BrokerConnection } from '../src/connection/broker-connection';
import { Consumer } from '../src/consumer/consumer';
import { Producer } from '../src/producer/producer';
import { delay } from '../src/retry';

describe('broker-client/Admin against a real broker', () => {
  let broker: BrokerProcess;
  let connection: BrokerConnection;
  let admin: Admin;
  beforeAll(async () => {
    broker = await startBroker({
      env: { BROKER_ADMIN_TOKEN: 'secret', BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' },
    });
    connection = new BrokerConnection({ broker: broker.address, adminToken: 'secret' });
    admin = new Admin(connection);
  });
  afterAll(async () => {
    connection?.close();
    await broker?.stop();
    broker?.cleanup();
  });

  it('takes back its abort listener after every call, so a signal that outlives many calls does not pile them up', async () => {
    const lifetime = new AbortController();
    for (let call = 0; call < 30; call++)
      await connection.call('listTopics', { includeInternal: false }, { signal: lifetime.signal });
    expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(0);
    for (let wait = 0; wait < 30; wait++) await delay(0, lifetime.signal);
    expect(getEventListeners(lifetime.signal, 'abort')).toHaveLength(0);
  });

  it('creates, grows, describes, lists and deletes topics', async () => {
    await admin.createTopic({ topic: 'lab.results', partitions: 2 });
    await admin.createPartitions('lab.results', 3);
    expect((await admin.describeTopic('lab.results')).partitions).toHaveLength(3);
    expect((await admin.listTopics()).map((topic) => topic.name)).toContain('lab.results');
    expect((await admin.listTopics(true)).map((topic) => topic.name)).toContain(
      '__consumer_offsets',
    );
    await admin.deleteTopic('lab.results');
    await expect(admin.describeTopic('lab.results')).rejects.toMatchObject({
      reason: ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
    });
  });

  it('describes a live group, then resets its offsets once it is empty', async () => {
    const producer = new Producer(connection);
    await producer.send({
      topic: 'patient.checkout',
      messages: Array.from({ length: 20 }, (_, i) => ({ key: `p${i}`, value: 'v' })),
    });
    const consumer = new Consumer(connection, {
      groupId: 'audit',
      fromBeginning: true,
      commitMode: 'sync',
      sessionTimeoutMs: 3_000,
      heartbeatIntervalMs: 300,
    });
    consumer.subscribe({ topics: ['patient.checkout'] });
    let consumed = 0;
    let allConsumed!: () => void;
    const done = new Promise<void>((resolve) => (allConsumed = resolve));
    await consumer.run({ eachMessage: async () => void (++consumed === 20 && allConsumed()) });
    await done;
    const live = await admin.describeGroup('audit');
    expect(live).toMatchObject({ state: GroupState.GROUP_STATE_STABLE, protocolName: 'range' });
    await expect(
      admin.resetOffsets('audit', 'patient.checkout', { earliest: true }),
    ).rejects.toMatchObject({ reason: ErrorReason.NON_EMPTY_GROUP });
    await consumer.stop();
    expect(
      (await admin.fetchOffsets('audit', 'patient.checkout')).reduce(
        (sum, entry) => sum + entry.offset,
        0,
      ),
    ).toBe(20);
    await admin.resetOffsets('audit', 'patient.checkout', { earliest: true });
    expect(
      (await admin.fetchOffsets('audit', 'patient.checkout')).map((entry) => entry.offset),
    ).toEqual([0, 0, 0, 0]);
    expect((await admin.listGroups()).map((group) => group.groupId)).toContain('audit');
    await admin.deleteGroup('audit');
    expect((await admin.listGroups()).map((group) => group.groupId)).not.toContain('audit');
  });
});
