import { partitionForKey } from '@hospital/proto';
import { startBroker, type BrokerProcess } from '@hospital/processes';
import { BrokerConnection } from '../src/connection/broker-connection';
import { Producer } from '../src/producer/producer';
import { ConsumerProcess, untilAll } from './support/consumer-process';

const RECORDS = 50_000;

describe('consumer groups with members as separate OS processes', () => {
  let broker: BrokerProcess;
  let connection: BrokerConnection;
  const children: ConsumerProcess[] = [];
  beforeAll(async () => {
    broker = await startBroker({
      env: {
        BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '300',
        BROKER_TOPICS: 'checkouts:4,failover:4,steady:4,steady.eager:4',
      },
    });
    connection = new BrokerConnection({ broker: broker.address, clientId: 'test-producer' });
  });
  afterAll(async () => {
    for (const child of children) if (child.child.exitCode === null) await child.kill();
    connection?.close();
    await broker?.stop();
    broker?.cleanup();
  });

  const seenByGroup = new Map<string, Set<string>>();
  const member = (
    name: string,
    group: string,
    topic: string,
    extra: { ASSIGNORS?: string } = {},
  ) => {
    if (!seenByGroup.has(group)) seenByGroup.set(group, new Set());
    const child = new ConsumerProcess(
      name,
      { BROKER: broker.address, GROUP: group, TOPIC: topic, ...extra },
      seenByGroup.get(group),
    );
    children.push(child);
    return child;
  };

  /** Unique (partition, offset) pairs processed by the processes of one group. */
  const processed = (processes: ConsumerProcess[]) => processes[0].processed;

  async function produce(topic: string, count: number, keys = 500): Promise<void> {
    const producer = new Producer(connection, { lingerMs: 5 });
    const sequence = new Map<string, number>();
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      const key = `patient-${i % keys}`;
      const next = sequence.get(key) ?? 0;
      sequence.set(key, next + 1);
      sends.push(producer.send({ topic, messages: [{ key, value: String(next) }] }));
      if (sends.length >= 2_000) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
    await producer.disconnect();
  }

  async function expectCommittedToEnd(group: string, topic: string): Promise<void> {
    const offsets = await connection.call('offsetFetch', {
      groupId: group,
      topics: [{ name: topic, partitions: [] }],
    });
    const described = await connection.call('describeTopic', { name: topic });
    expect(offsets.topics[0].partitions.map((partition) => partition.committedOffset)).toEqual(
      described.topic!.partitions.map((partition) => partition.logEndOffset),
    );
  }

  it('3 processes share 50,000 keyed records written while they run: all processed, per-partition order kept, commits reach the log end', async () => {
    const members = ['billing-a', 'billing-b', 'billing-c'].map((name) =>
      member(name, 'billing', 'checkouts'),
    );
    await Promise.all(members.map((child) => child.until(() => child.joins.length > 0)));
    await produce('checkouts', RECORDS);
    await untilAll(members, () => processed(members).size >= RECORDS);
    for (const child of members) expect(await child.stop()).toBe('0');

    expect(processed(members).size).toBe(RECORDS);
    for (const child of members) {
      // Within one process, each partition's offsets only go up; each key's sequence too.
      const lastOffset = new Map<number, number>();
      const lastSequence = new Map<string, number>();
      const violations = child.records.filter((record) => {
        const offsetOk = record.offset > (lastOffset.get(record.partition) ?? -1);
        const sequenceOk = Number(record.value) > (lastSequence.get(record.key) ?? -1);
        lastOffset.set(record.partition, record.offset);
        lastSequence.set(record.key, Number(record.value));
        return !offsetOk || !sequenceOk || partitionForKey(record.key, 4) !== record.partition;
      });
      expect(violations.slice(0, 3)).toEqual([]);
    }
    await expectCommittedToEnd('billing', 'checkouts');
  }, 120_000);

  it('a member SIGKILLed mid-stream loses its partitions after the session timeout and no record is lost', async () => {
    const members = ['hk-a', 'hk-b', 'hk-c'].map((name) =>
      member(name, 'housekeeping', 'failover'),
    );
    await Promise.all(members.map((child) => child.until(() => child.joins.length > 0)));
    const producing = produce('failover', RECORDS);
    const [victim, ...survivors] = members;
    await victim.until(() => victim.records.length >= 2_000);
    expect(await victim.kill()).toBe('SIGKILL');
    await producing;
    await untilAll(survivors, () => processed(members).size >= RECORDS);
    const owned = survivors.flatMap((child) => child.joins.at(-1)?.partitions ?? []).sort();
    expect(owned).toEqual([0, 1, 2, 3]);
    for (const child of survivors) expect(await child.stop()).toBe('0');
    expect(processed(members).size).toBe(RECORDS);
    await expectCommittedToEnd('housekeeping', 'failover');
  }, 120_000);

  /** Records a member processed from partitions it kept, while a rebalance caused by a newcomer was running. */
  async function consumedDuringRebalance(
    assignors: string,
    topic: string,
  ): Promise<{ during: number; windowMs: number }> {
    const group = `pharmacy-${assignors}`;
    const first = member(`${group}-1`, group, topic, { ASSIGNORS: assignors });
    const second = member(`${group}-2`, group, topic, { ASSIGNORS: assignors });
    await Promise.all([first, second].map((child) => child.until(() => child.joins.length > 0)));
    let producing = true;
    const stream = (async () => {
      while (producing) await produce(topic, 400, 40);
    })();
    await first.until(() => first.records.length > 500);
    const kept = new Set(first.joins.at(-1)!.partitions);
    const rebalancesBefore = first.rebalances.length;
    const newcomer = member(`${group}-3`, group, topic, { ASSIGNORS: assignors });
    await newcomer.until(() => newcomer.records.length > 0);
    await first.until(
      () =>
        first.rebalances.length > rebalancesBefore &&
        first.joins.at(-1)!.at > first.rebalances[rebalancesBefore],
    );
    const start = first.rebalances[rebalancesBefore];
    const end = first.joins.at(-1)!.at;
    const stillMine = new Set(first.joins.at(-1)!.partitions);
    const during = first.records.filter(
      (record) =>
        record.at > start &&
        record.at < end &&
        kept.has(record.partition) &&
        stillMine.has(record.partition),
    ).length;
    producing = false;
    await stream;
    for (const child of [first, second, newcomer]) await child.stop();
    return { during, windowMs: end - start };
  }

  it('with cooperative-sticky, partitions that do not move keep being consumed during the rebalance; with eager range they do not', async () => {
    const cooperative = await consumedDuringRebalance('cooperative-sticky', 'steady');
    const eager = await consumedDuringRebalance('range', 'steady.eager');
    expect(cooperative.during).toBeGreaterThan(0);
    expect(eager.during).toBe(0);
  }, 120_000);
});
