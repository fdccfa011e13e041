import { Admin, BrokerConnection, Producer } from '@hospital/broker-client';
import { bootstrapServiceDatabases } from '@hospital/db';
import {
  findFreePort,
  startService,
  type BrokerProcess,
  type NodeProcess,
} from '@hospital/processes';
import { startBurrow, type Burrow, type BurrowPartition } from './support/burrow';
import {
  brokerEnv,
  caughtUp,
  eventually,
  ROLES,
  startPlatform,
  startReplica,
  TOPIC,
  type Platform,
  type Replica,
} from './support/system';

/**
 * LinkedIn's Burrow, a lag checker written for Apache Kafka, pointed at our
 * broker's Kafka listener while billing runs as in the demo: two replicas
 * on the gRPC API, checkout's simulator publishing. Burrow learns commits
 * only by consuming __consumer_offsets and log ends only by ListOffsets, so
 * agreeing with the broker's own DescribeGroup is a check of both, by a
 * client we did not write.
 */
describe('Burrow reports billing’s lag per partition as the broker does', () => {
  let platform: Platform | undefined;
  let broker: BrokerProcess;
  let connection: BrokerConnection;
  let admin: Admin;
  let burrow: Burrow;
  let replicas: Replica[] = [];
  let checkout: NodeProcess | undefined;

  /** The broker's view of billing on the topic, as Burrow words it. */
  const ours = async (): Promise<Omit<BurrowPartition, 'owner'>[]> =>
    (await admin.describeGroup('billing')).offsets
      .filter((entry) => entry.topic === TOPIC)
      .map((entry) => ({
        topic: entry.topic,
        partition: entry.partition,
        committed: entry.committedOffset,
        lag: entry.lag,
      }))
      .sort((a, b) => a.partition - b.partition);
  const theirs = async () =>
    (await burrow.lag('billing')).map(({ topic, partition, committed, lag }) => ({
      topic,
      partition,
      committed,
      lag,
    }));
  /** Burrow and the broker agree, partition by partition; a timeout says where they differ. */
  const agreed = async () => {
    let last = '';
    try {
      return await eventually(
        async () => {
          const [broker, burrowView] = [await ours(), await theirs()];
          last = `broker ${JSON.stringify(broker)}\nBurrow ${JSON.stringify(burrowView)}`;
          return JSON.stringify(broker) === JSON.stringify(burrowView) && broker;
        },
        'Burrow to agree with DescribeGroup',
        { timeoutMs: 30_000, everyMs: 250 },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${last}\n${burrow.output().slice(-3_000)}`, {
        cause: error,
      });
    }
  };

  beforeAll(async () => {
    platform = await startPlatform({ BROKER_KAFKA_PORT: '0' });
    broker = platform.broker;
    const postgres = platform.postgres;
    await bootstrapServiceDatabases(postgres.url, [ROLES.billing]);
    connection = new BrokerConnection({ broker: broker.address });
    admin = new Admin(connection);
    const services = brokerEnv('grpc', broker);
    const started = await Promise.allSettled([
      startReplica('billing', 'billing-1', postgres.url, services),
      startReplica('billing', 'billing-2', postgres.url, services),
    ]);
    // Both are in the list before a failure is thrown, so afterAll stops the one that started.
    for (const result of started) if (result.status === 'fulfilled') replicas.push(result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    burrow = await startBurrow(broker.kafkaAddress as string);
    // Each step fails on its own within 30 s (90 s with a replica's port retries); the
    // hook's limit stays above their sum, so a slow machine gets a reason, not a timeout.
  }, 200_000);

  afterAll(async () => {
    await Promise.all([checkout?.stop(), ...replicas.map((replica) => replica.process.stop())]);
    await burrow?.stop();
    connection?.close();
    await platform?.stop();
  });

  it('follows the commits while checkouts flow and a replica is SIGKILLed, its partitions moved to the other', async () => {
    await eventually(async () => {
      const described = await admin.describeGroup('billing');
      return described.members.length === 2 && described.members.every((member) => !member.idle);
    }, 'both billing replicas to own partitions');
    checkout = await startService('checkout', {
      CHECKOUT_PORT: String(await findFreePort()),
      ...brokerEnv('grpc', broker),
      SIMULATOR_RATE: '300',
    });
    await eventually(
      async () => (await theirs()).length === 4,
      'Burrow to see billing commit on all 4 partitions',
    );

    const [victim, survivor] = replicas;
    await victim.process.kill();
    replicas = [survivor];
    await eventually(async () => {
      const described = await admin.describeGroup('billing');
      return (
        described.members.length === 1 &&
        described.offsets.every((entry) => entry.ownerMemberId === described.members[0].memberId)
      );
    }, 'the survivor to own all 4 partitions after the victim’s session timeout');

    // Commits go on while the flow does: Burrow must pass what the broker had
    // committed after the rebalance, and never report a commit the broker did not have.
    const afterRebalance = await ours();
    await eventually(async () => {
      const burrowView = await theirs();
      const now = await ours();
      burrowView.forEach((entry, index) =>
        expect(entry.committed).toBeLessThanOrEqual(now[index].committed),
      );
      return burrowView.every((entry, index) => entry.committed > afterRebalance[index].committed);
    }, 'Burrow to follow the survivor’s commits on every partition');
  });

  it('agrees exactly once the flow stops, with no lag and then with records no one has consumed yet', async () => {
    await checkout?.stop();
    checkout = undefined;
    await eventually(() => caughtUp(admin, 'billing', TOPIC), 'billing to catch up');
    expect((await agreed()).map((entry) => entry.lag)).toEqual([0, 0, 0, 0]);

    // The group goes Empty and 200 more checkouts wait on its partitions.
    await Promise.all(replicas.map((replica) => replica.process.stop()));
    replicas = [];
    const producer = new Producer(connection);
    await producer.send({
      topic: TOPIC,
      messages: Array.from({ length: 200 }, (_, index) => ({
        key: `P-${index}`,
        value: Buffer.from('unread'),
      })),
    });
    await producer.disconnect();
    const waiting = await agreed();
    expect(waiting.reduce((sum, entry) => sum + entry.lag, 0)).toBe(200);
  });
});
