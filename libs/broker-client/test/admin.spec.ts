import { getEventListeners } from 'node:events';
import { ErrorReason, GroupState, ProtocolMessageKind } from '@hospital/proto';
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

  it('gives each rebalance as its protocol messages: the leader’s SyncGroup carries every member’s share', async () => {
    const members = ['history-1', 'history-2'].map((clientId) => {
      const memberConnection = new BrokerConnection({ broker: broker.address, clientId });
      const consumer = new Consumer(memberConnection, {
        groupId: 'history',
        sessionTimeoutMs: 3_000,
        heartbeatIntervalMs: 300,
      });
      consumer.subscribe({ topics: ['patient.checkout'] });
      return { clientId, consumer, memberConnection };
    });
    const joined = members.map(
      ({ consumer }) =>
        new Promise<number>((resolve) =>
          consumer.events.on('consumer.group.join', (event) => {
            if (Object.values(event.assignment).flat().length === 2) resolve(event.generationId);
          }),
        ),
    );
    for (const { consumer } of members) await consumer.run({ eachMessage: async () => {} });
    const [generation] = await Promise.all(joined);
    // Each member fetches right after its SyncGroup answer; wait for both first fetches.
    let sequence;
    for (;;) {
      const history = await admin.groupHistory('history');
      sequence = history.sequences.find((s) => s.generationId === generation);
      if (
        sequence?.messages.filter(
          (m) => m.kind === ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_FIRST_FETCH,
        ).length === 2
      )
        break;
      await delay(50);
    }
    const kinds = sequence.messages.map((m) => m.kind);
    expect(
      kinds.filter((k) => k === ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_JOIN_RESPONSE).length,
    ).toBeGreaterThanOrEqual(2);
    const leaderSync = sequence.messages.find(
      (m) =>
        m.kind === ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_SYNC_REQUEST && m.shares.length > 0,
    );
    expect(leaderSync?.memberId).toBe(sequence.leader);
    expect(leaderSync?.shares.map((share) => share.clientId).sort()).toEqual([
      'history-1',
      'history-2',
    ]);
    const answers = sequence.messages.filter(
      (m) => m.kind === ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_SYNC_RESPONSE,
    );
    expect(answers.map((m) => m.shares.length)).toEqual([1, 1]);
    // Every message of the generation comes after the previous one in time.
    const times = sequence.messages.map((m) => m.atMs);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    for (const { consumer, memberConnection } of members) {
      await consumer.stop();
      memberConnection.close();
    }
  });
});
