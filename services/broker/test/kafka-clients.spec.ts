import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { Acks, ConsumerSubscription, partitionForKey } from '@hospital/proto';
import { AssignerProtocol, type EachMessagePayload } from 'kafkajs';
import { batchOf, readAll } from './support/broker-rpc';
import { joined, kafkaJs } from './support/kafka-clients';
import {
  ADMIN_TOKEN,
  startKafkaTestBroker,
  type KafkaTestBroker,
} from './support/start-test-broker';

/**
 * KafkaJS 2.2, an independent Kafka client, against the broker's Kafka
 * listener: the same logs and groups that gRPC clients see.
 */
describe('broker over the Kafka protocol, judged by KafkaJS', () => {
  let broker: KafkaTestBroker;
  let address: string;
  beforeAll(async () => {
    broker = await startKafkaTestBroker();
    address = broker.kafkaAddress;
  });
  afterAll(() => broker?.stop());

  const createTopic = async (topic: string, numPartitions: number) => {
    const admin = kafkaJs(address).admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions }] })).toBe(true);
    } finally {
      await admin.disconnect();
    }
  };

  it("produces keyed records onto the partitions of Kafka's default partitioner, keeping keys, values, headers and create times", async () => {
    await createTopic('kjs.keyed', 4);
    const producer = kafkaJs(address).producer();
    await producer.connect();
    const sent = Array.from({ length: 40 }, (_, i) => ({
      key: `patient-${i}`,
      value: `checkout ${i}`,
      headers: { ward: `w${i % 3}`, trace: `t${i}` },
      timestamp: String(1_790_000_000_000 + i),
    }));
    await producer.send({ topic: 'kjs.keyed', messages: sent });
    await producer.disconnect();
    const stored = (
      await Promise.all([0, 1, 2, 3].map((p) => readAll(broker.rpc, 'kjs.keyed', p)))
    ).flatMap((records, partition) => records.map((record) => ({ partition, record })));
    expect(stored).toHaveLength(40);
    // Each partition keeps the order they were sent in.
    for (const partition of [0, 1, 2, 3]) {
      const sequence = stored
        .filter((entry) => entry.partition === partition)
        .map((entry) => Number(entry.record.value.toString().split(' ')[1]));
      expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
    }
    for (const { partition, record } of stored) {
      const key = record.key?.toString() as string;
      expect(partition).toBe(partitionForKey(key, 4));
      const original = sent.find((message) => message.key === key);
      expect(record.value.toString()).toBe(original?.value);
      expect(record.timestamp).toBe(Number(original?.timestamp));
      expect(
        Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, v.toString()])),
      ).toEqual(original?.headers);
    }
  });

  it('hands records produced over gRPC to a KafkaJS group member, in order, with keys, headers and timestamps', async () => {
    await createTopic('mixed.grpc-to-kafka', 1);
    const records = Array.from({ length: 25 }, (_, i) => ({
      key: i % 5 === 0 ? null : `k${i}`,
      value: `v${i}`,
      headers: { seq: String(i) },
      timestamp: 1_790_000_000_000 + i * 7,
    }));
    for (let first = 0; first < records.length; first += 10)
      await broker.rpc.call('produce', {
        acks: Acks.ACKS_ALL,
        timeoutMs: 5_000,
        topics: [
          {
            name: 'mixed.grpc-to-kafka',
            partitions: [{ partition: 0, batch: batchOf(records.slice(first, first + 10)) }],
          },
        ],
      });
    const consumer = kafkaJs(address).consumer({ groupId: 'mixed-readers', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'mixed.grpc-to-kafka', fromBeginning: true });
    const seen: EachMessagePayload['message'][] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(message);
          if (seen.length === records.length) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(
      seen.map((message) => ({
        offset: Number(message.offset),
        key: message.key === null ? null : message.key.toString(),
        value: message.value?.toString(),
        headers: { seq: message.headers?.seq?.toString() },
        timestamp: Number(message.timestamp),
      })),
    ).toEqual(records.map((record, offset) => ({ offset, ...record })));
  });

  it("agrees with gRPC about a KafkaJS group: describeGroups is DescribeGroup's members and assignment, fetchOffsets is OffsetFetch", async () => {
    await createTopic('kjs.agree', 3);
    const producer = kafkaJs(address).producer();
    await producer.connect();
    await producer.send({
      topic: 'kjs.agree',
      messages: Array.from({ length: 30 }, (_, i) => ({ key: `p${i}`, value: String(i) })),
    });
    await producer.disconnect();
    const kafka = kafkaJs(address);
    const consumer = kafka.consumer({ groupId: 'agree', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kjs.agree', fromBeginning: true });
    let consumed = 0;
    const assignment = joined(consumer);
    await new Promise<void>((resolve) => {
      void consumer.run({
        autoCommitThreshold: 1,
        eachMessage: async () => {
          if (++consumed === 30) resolve();
        },
      });
    });
    await assignment;
    const admin = kafka.admin();
    await admin.connect();
    // KafkaJS commits after the handler returns: wait until every offset is in.
    let theirs = await admin.fetchOffsets({ groupId: 'agree', topics: ['kjs.agree'] });
    while (theirs[0].partitions.reduce((sum, p) => sum + Number(p.offset), 0) < 30)
      theirs = await admin.fetchOffsets({ groupId: 'agree', topics: ['kjs.agree'] });
    const ours = await broker.rpc.call('offsetFetch', {
      groupId: 'agree',
      topics: [{ name: 'kjs.agree', partitions: [] }],
    });
    expect(
      theirs[0].partitions
        .map((p) => ({ partition: p.partition, offset: Number(p.offset) }))
        .sort((a, b) => a.partition - b.partition),
    ).toEqual(
      ours.topics[0].partitions.map((p) => ({ partition: p.partition, offset: p.committedOffset })),
    );
    const { groups } = await admin.describeGroups(['agree']);
    const described = await broker.rpc.call('describeGroup', { groupId: 'agree' });
    const group = described.group;
    expect(groups[0]).toMatchObject({
      state: 'Stable',
      protocolType: 'consumer',
      protocol: group?.protocolName,
    });
    expect(groups[0].members.map((m) => m.memberId)).toEqual(group?.members.map((m) => m.memberId));
    const decoded = AssignerProtocol.MemberAssignment.decode(groups[0].members[0].memberAssignment);
    expect(decoded?.assignment).toEqual({ 'kjs.agree': [0, 1, 2] });
    // The broker reads Kafka's consumer protocol for its own views: the same three partitions.
    expect(group?.members[0].assignment).toEqual([{ topic: 'kjs.agree', partitions: [0, 1, 2] }]);
    expect(group?.members[0].subscribedTopics).toEqual(['kjs.agree']);
    await admin.disconnect();
    await consumer.disconnect();
  });

  it('expels a KafkaJS consumer killed without leaving once its session timeout passes, and its partner takes every partition', async () => {
    await createTopic('kjs.killed', 2);
    const member = () =>
      spawn(
        process.execPath,
        [join(__dirname, 'support', 'kafkajs-member.cjs'), address, 'killed', 'kjs.killed', '3000'],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
    const assignments = (child: ReturnType<typeof member>) => {
      const lines = createInterface({ input: child.stdout });
      const queue: { memberId: string; assignment: { [topic: string]: number[] } }[] = [];
      const waiting: ((value: (typeof queue)[number]) => void)[] = [];
      lines.on('line', (line) => {
        if (!line.startsWith('assigned ')) return;
        const value = JSON.parse(line.slice('assigned '.length));
        const next = waiting.shift();
        if (next) next(value);
        else queue.push(value);
      });
      return () =>
        new Promise<(typeof queue)[number]>((resolve) => {
          const ready = queue.shift();
          if (ready) resolve(ready);
          else waiting.push(resolve);
        });
    };
    const survivor = member();
    const victim = member();
    try {
      const nextOfSurvivor = assignments(survivor);
      const nextOfVictim = assignments(victim);
      // Both in one generation: one partition each.
      let shared = await nextOfSurvivor();
      while (shared.assignment['kjs.killed']?.length !== 1) shared = await nextOfSurvivor();
      const doomed = await nextOfVictim();
      victim.kill('SIGKILL');
      const killedAt = Date.now();
      const after = await nextOfSurvivor();
      const expelledAfterMs = Date.now() - killedAt;
      expect(after.assignment['kjs.killed']).toEqual([0, 1]);
      const described = await broker.rpc.call('describeGroup', { groupId: 'killed' });
      // The survivor kept its place (same member id) while the victim's session ran out.
      expect(after.memberId).toBe(shared.memberId);
      expect(described.group?.members.map((m) => m.memberId)).toEqual([shared.memberId]);
      expect(described.group?.members.map((m) => m.memberId)).not.toContain(doomed.memberId);
      // Not before its session of 3 s ran out (less the heartbeat interval it had been silent for).
      expect(expelledAfterMs).toBeGreaterThanOrEqual(2_500);
    } finally {
      survivor.kill('SIGKILL');
      victim.kill('SIGKILL');
    }
  });

  it("refuses a KafkaJS consumer into a group of the broker's own clients with INCONSISTENT_GROUP_PROTOCOL", async () => {
    await createTopic('kjs.mixed-group', 1);
    const first = await broker.rpc
      .call('joinGroup', {
        groupId: 'hospital-only',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId: '',
        groupInstanceId: 'ours-1',
        protocolType: 'consumer',
        protocols: [
          {
            name: 'RoundRobinAssigner',
            metadata: Buffer.from(
              ConsumerSubscription.encode({
                topics: ['kjs.mixed-group'],
                userData: Buffer.alloc(0),
                ownedPartitions: [],
                generationId: -1,
              }).finish(),
            ),
          },
        ],
        clientId: 'ours',
        reason: '',
      })
      .catch((error: unknown) => error);
    expect(first).toMatchObject({ generationId: 1 });
    const consumer = kafkaJs(address).consumer({ groupId: 'hospital-only' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kjs.mixed-group' });
    const outcome = joined(consumer).catch((error: { type?: string; message: string }) => error);
    void consumer.run({ eachMessage: async () => undefined });
    expect(await outcome).toMatchObject({ type: 'INCONSISTENT_GROUP_PROTOCOL' });
    await consumer.disconnect();
  });

  it('creates topics with the Kafka configs that map onto topic settings, and refuses the rest with their Kafka codes', async () => {
    const admin = kafkaJs(address, { retry: { retries: 0 } }).admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic: 'kjs.configured',
            numPartitions: 2,
            configEntries: [
              { name: 'retention.ms', value: '60000' },
              { name: 'cleanup.policy', value: 'compact' },
            ],
          },
        ],
      });
      const described = await broker.rpc.call('describeTopic', { name: 'kjs.configured' });
      expect(described.topic?.partitions).toHaveLength(2);
      expect(described.topic?.config).toMatchObject({ retentionMs: 60_000, cleanupPolicy: 2 });
      const refused = (topic: object) =>
        admin
          .createTopics({ topics: [{ topic: 'kjs.refused', ...topic }] })
          .catch((error: { errors?: { type: string }[] }) => error.errors?.[0]?.type);
      expect(await refused({ configEntries: [{ name: 'min.insync.replicas', value: '2' }] })).toBe(
        'INVALID_CONFIG',
      );
      expect(await refused({ configEntries: [{ name: 'segment.bytes', value: '10' }] })).toBe(
        'INVALID_CONFIG',
      );
      expect(await refused({ replicationFactor: 3 })).toBe('INVALID_REPLICATION_FACTOR');
      expect(await admin.listTopics()).not.toContain('kjs.refused');
    } finally {
      await admin.disconnect();
    }
  });

  it('takes admin operations only from a connection that authenticated with SASL/PLAIN and the admin token', async () => {
    await createTopic('kjs.doomed', 1);
    const anonymous = kafkaJs(address).admin();
    await anonymous.connect();
    await expect(anonymous.deleteTopics({ topics: ['kjs.doomed'] })).rejects.toMatchObject({
      type: 'TOPIC_AUTHORIZATION_FAILED',
    });
    await anonymous.disconnect();
    const wrong = kafkaJs(address, {
      sasl: { mechanism: 'plain', username: 'admin', password: 'guess' },
      retry: { retries: 0 },
    }).admin();
    await expect(wrong.connect()).rejects.toMatchObject({
      message: expect.stringContaining('SASL PLAIN authentication failed'),
    });
    const admin = kafkaJs(address, {
      sasl: { mechanism: 'plain', username: 'admin', password: ADMIN_TOKEN },
    }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: ['kjs.doomed'] });
    expect(await admin.listTopics()).not.toContain('kjs.doomed');
    await admin.disconnect();
  });
});
