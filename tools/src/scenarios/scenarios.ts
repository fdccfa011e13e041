import { Admin, BrokerConnection, Consumer, Producer } from '@hospital/broker-client';

/** What a scenario observed: each member's partitions, per generation, and whether the expectation held. */
export interface ScenarioReport {
  name: string;
  generations: { group: string; generation: number; assignment: { [member: string]: number[] } }[];
  failures: string[];
}

export interface ScenarioContext {
  broker: string;
  adminToken?: string;
  log(line: string): void;
}

interface Member {
  name: string;
  consumer: Consumer;
  connection: BrokerConnection;
  received: number;
}

/**
 * One run of a source-material experiment: its own topic and groups, named
 * members (real group members over gRPC), and a log of every generation's
 * assignment as the members report it.
 */
class Experiment {
  readonly report: ScenarioReport;
  private readonly members = new Map<string, Member>();
  private readonly suffix = Date.now().toString(36);
  private readonly admin: Admin;
  private readonly adminConnection: BrokerConnection;
  /** The latest generation seen per group, and who reported in it. */
  private readonly latest = new Map<string, { generation: number; reported: Set<string> }>();
  private readonly waiters: (() => void)[] = [];

  constructor(
    name: string,
    private readonly context: ScenarioContext,
  ) {
    this.report = { name, generations: [], failures: [] };
    this.adminConnection = new BrokerConnection({
      broker: context.broker,
      clientId: 'scenario-admin',
      adminToken: context.adminToken,
    });
    this.admin = new Admin(this.adminConnection);
  }

  topicName(base: string): string {
    return `${base}-${this.suffix}`;
  }

  async createTopic(base: string, partitions: number): Promise<string> {
    const topic = this.topicName(base);
    await this.admin.createTopic({ topic, partitions });
    this.context.log(`topic ${topic}: ${partitions} partitions`);
    return topic;
  }

  async addPartitions(topic: string, total: number): Promise<void> {
    await this.admin.createPartitions(topic, total);
    this.context.log(`topic ${topic}: now ${total} partitions`);
  }

  async produce(topic: string, count: number): Promise<void> {
    const producer = new Producer(this.adminConnection);
    await producer.send({
      topic,
      messages: Array.from({ length: count }, (_, i) => ({ key: `patient-${i}`, value: `${i}` })),
    });
    await producer.disconnect();
  }

  async join(group: string, name: string, topic: string): Promise<void> {
    const connection = new BrokerConnection({ broker: this.context.broker, clientId: name });
    const consumer = new Consumer(connection, {
      groupId: this.topicName(group),
      fromBeginning: true,
      sessionTimeoutMs: 3_000,
      heartbeatIntervalMs: 300,
    });
    const member: Member = { name, consumer, connection, received: 0 };
    this.members.set(name, member);
    consumer.events.on('consumer.group.join', (joined) => {
      const partitions = Object.values(joined.assignment)
        .flat()
        .sort((a, b) => a - b);
      let entry = this.report.generations.find(
        (g) => g.group === group && g.generation === joined.generationId,
      );
      if (!entry) {
        entry = { group, generation: joined.generationId, assignment: {} };
        this.report.generations.push(entry);
      }
      entry.assignment[name] = partitions;
      const latest = this.latest.get(group);
      if (!latest || latest.generation < joined.generationId)
        this.latest.set(group, { generation: joined.generationId, reported: new Set([name]) });
      else if (latest.generation === joined.generationId) latest.reported.add(name);
      this.context.log(
        `  ${group} generation ${joined.generationId}: ${name} → [${partitions.join(', ')}]${partitions.length === 0 ? ' (idle)' : ''}`,
      );
      for (const wake of this.waiters.splice(0)) wake();
    });
    consumer.subscribe({ topics: [topic] });
    await consumer.run({
      eachMessage: async () => {
        member.received++;
        for (const wake of this.waiters.splice(0)) wake();
      },
    });
  }

  /** Stops a member gracefully (it leaves the group) or, with `crash`, silently (the session expires). */
  async leave(name: string, crash = false): Promise<void> {
    const member = this.members.get(name);
    if (!member) return;
    this.members.delete(name);
    if (crash) {
      // A crash: the connection drops without LeaveGroup; the coordinator notices after the session timeout.
      member.connection.close();
      void member.consumer.stop().catch(() => undefined);
    } else {
      await member.consumer.stop();
      member.connection.close();
    }
    this.context.log(`${name} ${crash ? 'crashed' : 'left'}`);
  }

  /**
   * Resolves with the assignment once exactly these members reported the
   * group's newest generation (newer than `after` when given).
   */
  async settled(
    group: string,
    members: string[],
    after = 0,
  ): Promise<{ generation: number; assignment: { [member: string]: number[] } }> {
    for (;;) {
      const latest = this.latest.get(group);
      const entry = this.report.generations.find(
        (g) => g.group === group && g.generation === latest?.generation,
      );
      if (
        latest &&
        entry &&
        latest.generation > after &&
        latest.reported.size === members.length &&
        members.every((name) => latest.reported.has(name))
      )
        return { generation: latest.generation, assignment: entry.assignment };
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Resolves once every named member has received `count` records. */
  async received(names: string[], count: number): Promise<void> {
    while (names.some((name) => (this.members.get(name)?.received ?? 0) < count))
      await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  receivedBy(name: string): number {
    return this.members.get(name)?.received ?? 0;
  }

  expect(condition: boolean, what: string): void {
    this.context.log(`${condition ? '✔' : '✘'} ${what}`);
    if (!condition) this.report.failures.push(what);
  }

  async close(): Promise<void> {
    await Promise.all([...this.members.keys()].map((name) => this.leave(name)));
    this.adminConnection.close();
  }
}

const sizes = (assignment: { [member: string]: number[] }) =>
  Object.values(assignment)
    .map((partitions) => partitions.length)
    .sort((a, b) => b - a);
const covers = (assignment: { [member: string]: number[] }, partitions: number) =>
  Object.values(assignment)
    .flat()
    .sort((a, b) => a - b)
    .join(',') === Array.from({ length: partitions }, (_, i) => i).join(',');

type ScenarioRun = (experiment: Experiment) => Promise<void>;

/** The source material's experiments, each checking its expected outcome. */
export const SCENARIOS: { [name: string]: { description: string; run: ScenarioRun } } = {
  basic: {
    description: '3 partitions, 2 consumers: one gets two partitions, the other one',
    run: async (e) => {
      const topic = await e.createTopic('basic', 3);
      await e.join('billing', 'consumer-a', topic);
      await e.join('billing', 'consumer-b', topic);
      const { assignment } = await e.settled('billing', ['consumer-a', 'consumer-b']);
      e.expect(covers(assignment, 3), 'every partition has exactly one owner');
      e.expect(sizes(assignment).join('/') === '2/1', 'the split is 2 and 1');
    },
  },
  scaling: {
    description: '1 → 2 → 3 consumers on 3 partitions, then one leaves',
    run: async (e) => {
      const topic = await e.createTopic('scaling', 3);
      await e.join('billing', 'c1', topic);
      e.expect(
        sizes((await e.settled('billing', ['c1'])).assignment).join('/') === '3',
        'c1 alone owns all 3',
      );
      await e.join('billing', 'c2', topic);
      e.expect(
        sizes((await e.settled('billing', ['c1', 'c2'])).assignment).join('/') === '2/1',
        'two consumers split 2/1',
      );
      await e.join('billing', 'c3', topic);
      e.expect(
        sizes((await e.settled('billing', ['c1', 'c2', 'c3'])).assignment).join('/') === '1/1/1',
        'three consumers own one each',
      );
      await e.leave('c3');
      const { assignment: after } = await e.settled('billing', ['c1', 'c2']);
      e.expect(covers(after, 3) && sizes(after).join('/') === '2/1', 'after c3 leaves: 2/1 again');
    },
  },
  failure: {
    description:
      'one of 3 consumers crashes; the others take its partition after the session timeout',
    run: async (e) => {
      const topic = await e.createTopic('failure', 3);
      for (const name of ['c1', 'c2', 'c3']) await e.join('billing', name, topic);
      await e.settled('billing', ['c1', 'c2', 'c3']);
      await e.leave('c2', true);
      const { assignment: after } = await e.settled('billing', ['c1', 'c3']);
      e.expect(covers(after, 3), 'c1 and c3 own all 3 partitions after c2 crashed');
      await e.join('billing', 'c2', topic);
      const { assignment: back } = await e.settled('billing', ['c1', 'c2', 'c3']);
      e.expect(sizes(back).join('/') === '1/1/1', 'a restarted c2 gets a partition back');
    },
  },
  'idle-consumers': {
    description: '3 partitions, 4 consumers: one is idle',
    run: async (e) => {
      const topic = await e.createTopic('idle', 3);
      const names = ['c1', 'c2', 'c3', 'c4'];
      for (const name of names) await e.join('billing', name, topic);
      const { assignment } = await e.settled('billing', names);
      e.expect(sizes(assignment).join('/') === '1/1/1/0', 'three own one partition, one is idle');
    },
  },
  'two-groups': {
    description: 'billing and pharmacy on one topic: each group gets every event',
    run: async (e) => {
      const topic = await e.createTopic('two-groups', 3);
      await e.join('billing', 'billing-1', topic);
      await e.join('pharmacy', 'pharmacy-1', topic);
      await e.settled('billing', ['billing-1']);
      await e.settled('pharmacy', ['pharmacy-1']);
      await e.produce(topic, 60);
      await e.received(['billing-1', 'pharmacy-1'], 60);
      e.expect(
        e.receivedBy('billing-1') === 60 && e.receivedBy('pharmacy-1') === 60,
        'each group received all 60 events, once',
      );
    },
  },
  'partitions-added': {
    description: 'partitions added to a subscribed topic: the group rebalances onto them',
    run: async (e) => {
      const topic = await e.createTopic('grow', 2);
      await e.join('billing', 'c1', topic);
      await e.join('billing', 'c2', topic);
      const before = await e.settled('billing', ['c1', 'c2']);
      e.expect(sizes(before.assignment).join('/') === '1/1', 'one each of 2');
      await e.addPartitions(topic, 4);
      const { assignment } = await e.settled('billing', ['c1', 'c2'], before.generation);
      e.expect(
        covers(assignment, 4) && sizes(assignment).join('/') === '2/2',
        'after growing to 4: a new generation, two each',
      );
    },
  },
};

export async function runScenario(name: string, context: ScenarioContext): Promise<ScenarioReport> {
  const scenario = SCENARIOS[name];
  if (!scenario) throw new Error(`unknown scenario "${name}"`);
  context.log(`scenario ${name}: ${scenario.description}`);
  const experiment = new Experiment(name, context);
  try {
    await scenario.run(experiment);
  } finally {
    await experiment.close();
  }
  return experiment.report;
}
