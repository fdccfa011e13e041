import { startBroker, type BrokerProcess } from '@hospital/processes';
import { BrokerConnection } from '../src/connection/broker-connection';
import { Consumer } from '../src/consumer/consumer';

const MEMBERS = 100;
const PARTITIONS = 1_000;
const TOPIC = 'storm';
const STAGGER_MS = 50;

/**
 * What a `--scale billing=100` does to a broker with its default settings:
 * members arriving 50 ms apart, each join starting or extending a rebalance
 * while the leader of the previous generation is storing its assignment.
 */
describe('a join storm: 100 members joining 50 ms apart on 1,000 partitions', () => {
  let broker: BrokerProcess;
  const connections: BrokerConnection[] = [];
  const consumers: Consumer[] = [];
  const joins = new Set<() => void>();
  beforeAll(async () => {
    broker = await startBroker({ env: { BROKER_TOPICS: `${TOPIC}:${PARTITIONS}` } });
  });
  afterAll(async () => {
    // stop() ends promptly even when the broker is gone (no join is retried after it).
    await Promise.all(consumers.map((consumer) => consumer?.stop()));
    for (const connection of connections) connection?.close();
    await broker?.stop();
    broker?.cleanup();
  });

  /** The generation all of `members` are in, when together they own every partition exactly once. */
  function coveringGeneration(members: Consumer[]): number | undefined {
    const generation = members[0].generationId;
    if (members.some((member) => member.generationId !== generation)) return undefined;
    const owned = members.flatMap((member) =>
      member.assignment().flatMap(({ partitions }) => partitions),
    );
    const distinct = new Set(owned);
    return owned.length === PARTITIONS && distinct.size === PARTITIONS ? generation : undefined;
  }

  /** Fails at once, with what the broker printed, if the broker process ends. */
  const whileBrokerLives = <T>(work: Promise<T>) =>
    Promise.race([
      work,
      broker.exited.then((how): never => {
        throw new Error(`the broker exited (${how}):\n${broker.output().slice(-4_000)}`);
      }),
    ]);

  /** Resolves with the covering generation, checked after every join event. */
  const covered = (members: Consumer[]) =>
    new Promise<number>((resolve) => {
      const check = () => {
        const generation = coveringGeneration(members);
        if (generation === undefined) return;
        joins.delete(check);
        resolve(generation);
      };
      joins.add(check);
      check();
    });

  it('keeps the broker alive; one generation covers every partition, after the storm and after one member leaves', async () => {
    const runs: Promise<void>[] = [];
    for (let i = 0; i < MEMBERS; i++) {
      const connection = new BrokerConnection({ broker: broker.address, clientId: `storm-${i}` });
      connections.push(connection);
      const consumer = new Consumer(connection, { groupId: 'billing', maxWaitMs: 200 });
      consumer.events.on('consumer.group.join', () => {
        for (const check of [...joins]) check();
      });
      consumer.subscribe({ topics: [TOPIC] });
      consumers.push(consumer);
      runs.push(consumer.run({ eachBatch: async () => {} }));
      await whileBrokerLives(new Promise((resolve) => setTimeout(resolve, STAGGER_MS)));
    }
    const lastJoinAt = Date.now();
    await whileBrokerLives(Promise.all(runs));
    const generation = await whileBrokerLives(covered(consumers));
    const coveredAfterMs = Date.now() - lastJoinAt;
    expect(broker.child.exitCode).toBeNull();

    const leaving = consumers.pop() as Consumer;
    const leftAt = Date.now();
    await whileBrokerLives(leaving.stop());
    const afterLeave = await whileBrokerLives(covered(consumers));
    const coveredAfterLeaveMs = Date.now() - leftAt;
    expect(afterLeave).toBeGreaterThan(generation);
    expect(broker.child.exitCode).toBeNull();
    expect(broker.output()).not.toContain('broker bug');
    process.stdout.write(
      `join storm: ${MEMBERS} members, ${PARTITIONS} partitions: generation ${generation} covered every partition ${coveredAfterMs} ms after the last join; after one member left, generation ${afterLeave} in ${coveredAfterLeaveMs} ms\n`,
    );
  }, 180_000);
});
