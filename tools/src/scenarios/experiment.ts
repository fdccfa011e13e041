import {
  Admin,
  BrokerConnection,
  Consumer,
  Producer,
  type ConsumerOptions,
  type EachBatchPayload,
  type EachMessagePayload,
} from '@hospital/broker-client';
import { kafkaJsMember } from './kafkajs-member';

/** What a scenario observed: each member's partitions, per generation, its evidence, and whether the expectation held. */
export interface ScenarioReport {
  name: string;
  generations: { group: string; generation: number; assignment: { [member: string]: number[] } }[];
  /** What the scenario measured, printed and returned as JSON (duplicated offsets, throughput...). */
  evidence: { [key: string]: unknown };
  failures: string[];
}

export interface ScenarioContext {
  broker: string;
  adminToken?: string;
  /** A Postgres server's admin URL, for the scenarios that store rows (effectively-once). */
  databaseUrl?: string;
  /**
   * The broker's Kafka listener: when set, the group scenarios' members are
   * KafkaJS consumers (with Kafka's range assignor) instead of the broker's own clients.
   */
  kafkaBrokers?: string;
  log(line: string): void;
}

/** A group member of a scenario, whichever client it is. */
export interface GroupMember {
  name: string;
  received: number;
  /** Set the moment the member crashes: a crashed process does nothing more. */
  crashed: boolean;
  /** Leaves the group, or with `crash` stops dead (no LeaveGroup, no last commit). */
  stop(crash: boolean): Promise<void>;
}

/** A member on the broker's own client, for the scenarios about its commit modes. */
export interface Member extends GroupMember {
  consumer: Consumer;
  connection: BrokerConnection;
}

export interface JoinOptions {
  /** Commit mode, static instance id, stored offsets... on top of the scenario defaults. */
  consumer?: Partial<ConsumerOptions>;
  /** Replaces the default handler (count and go on); not called once the member crashed. */
  eachMessage?: (payload: EachMessagePayload, member: Member) => Promise<void>;
  eachBatch?: (payload: EachBatchPayload, member: Member) => Promise<void>;
}

/**
 * One run of a source-material experiment: its own topic and groups, named
 * members (real group members over gRPC), and a log of every generation's
 * assignment as the members report it.
 */
export class Experiment {
  readonly report: ScenarioReport;
  readonly admin: Admin;
  private readonly members = new Map<string, GroupMember>();
  private readonly suffix = Date.now().toString(36);
  private readonly adminConnection: BrokerConnection;
  /** The latest generation seen per group, and who reported in it. */
  private readonly latest = new Map<string, { generation: number; reported: Set<string> }>();
  private readonly waiters: (() => void)[] = [];
  /** Crashed KafkaJS members, whose clients close() shuts down. */
  private readonly windingDown: (() => Promise<void>)[] = [];

  constructor(
    name: string,
    readonly context: ScenarioContext,
  ) {
    this.report = { name, generations: [], evidence: {}, failures: [] };
    this.adminConnection = new BrokerConnection({
      broker: context.broker,
      clientId: 'scenario-admin',
      adminToken: context.adminToken,
    });
    this.admin = new Admin(this.adminConnection);
  }

  /** A name unique to this run, so scenarios can share a broker (the demo's, say). */
  topicName(base: string): string {
    return `${base}-${this.suffix}`;
  }

  log(line: string): void {
    this.context.log(line);
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

  /** Produces `count` records, `perBatch` to a send (each send is one stored batch, read whole by a fetch). */
  async produce(topic: string, count: number, perBatch = count): Promise<void> {
    const producer = new Producer(this.adminConnection);
    for (let first = 0; first < count; first += perBatch)
      await producer.send({
        topic,
        messages: Array.from({ length: Math.min(perBatch, count - first) }, (_, i) => ({
          key: `patient-${first + i}`,
          value: `${first + i}`,
        })),
      });
    await producer.disconnect();
  }

  /** The group's committed offset of one partition, as the broker has it (-1 when none). */
  async committed(group: string, topic: string, partition = 0): Promise<number> {
    const offsets = await this.admin.fetchOffsets(this.topicName(group), topic);
    return offsets.find((entry) => entry.partition === partition)?.offset ?? -1;
  }

  async join(
    group: string,
    name: string,
    topic: string,
    options: JoinOptions = {},
  ): Promise<Member> {
    const connection = new BrokerConnection({ broker: this.context.broker, clientId: name });
    const consumer = new Consumer(connection, {
      groupId: this.topicName(group),
      fromBeginning: true,
      sessionTimeoutMs: 3_000,
      heartbeatIntervalMs: 300,
      ...options.consumer,
    });
    const member: Member = {
      name,
      consumer,
      connection,
      received: 0,
      crashed: false,
      async stop(crash) {
        if (crash) {
          // A crash: the connection drops without LeaveGroup or a last commit; the coordinator notices after the session timeout.
          connection.close();
          void consumer.stop().catch(() => undefined);
          return;
        }
        await consumer.stop();
        connection.close();
      },
    };
    this.members.set(name, member);
    consumer.events.on('consumer.group.join', (joined) =>
      this.joined(group, name, joined.generationId, Object.values(joined.assignment).flat()),
    );
    consumer.subscribe({ topics: [topic] });
    const { eachMessage, eachBatch } = options;
    await consumer.run(
      eachBatch
        ? {
            eachBatch: async (payload) => {
              if (member.crashed) return;
              await eachBatch(payload, member);
              this.wake();
            },
          }
        : {
            eachMessage: async (payload) => {
              if (member.crashed) return;
              member.received++;
              if (eachMessage) await eachMessage(payload, member);
              this.wake();
            },
          },
    );
    return member;
  }

  /**
   * A member of the group scenarios, on the client the context names: the
   * broker's own over gRPC, or KafkaJS over the Kafka protocol.
   */
  async member(group: string, name: string, topic: string): Promise<void> {
    if (!this.context.kafkaBrokers) {
      await this.join(group, name, topic);
      return;
    }
    const groupId = this.topicName(group);
    const { consumer, crash, revive } = kafkaJsMember({
      brokers: this.context.kafkaBrokers,
      clientId: name,
      groupId,
      sessionTimeoutMs: 3_000,
    });
    const member: GroupMember = {
      name,
      received: 0,
      crashed: false,
      stop: async (crashing) => {
        if (!crashing) return consumer.disconnect();
        crash();
        // The dead client is shut down only when the experiment ends, reconnected so its shutdown finishes.
        this.windingDown.push(async () => {
          revive();
          await consumer.disconnect().catch(() => undefined);
        });
      },
    };
    this.members.set(name, member);
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      // KafkaJS does not say the generation; the coordinator does.
      void this.admin.describeGroup(groupId).then(
        (described) =>
          this.joined(
            group,
            name,
            described.generationId,
            Object.values(payload.memberAssignment).flat(),
          ),
        () => undefined,
      );
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async () => {
        if (member.crashed) return;
        member.received++;
        this.wake();
      },
    });
  }

  /** Records the partitions a member reported for a generation, and wakes whoever waits for it. */
  private joined(group: string, name: string, generation: number, owned: number[]): void {
    const partitions = [...owned].sort((a, b) => a - b);
    let entry = this.report.generations.find(
      (g) => g.group === group && g.generation === generation,
    );
    if (!entry) {
      entry = { group, generation, assignment: {} };
      this.report.generations.push(entry);
    }
    entry.assignment[name] = partitions;
    const latest = this.latest.get(group);
    if (!latest || latest.generation < generation)
      this.latest.set(group, { generation, reported: new Set([name]) });
    else if (latest.generation === generation) latest.reported.add(name);
    this.context.log(
      `  ${group} generation ${generation}: ${name} → [${partitions.join(', ')}]${partitions.length === 0 ? ' (idle)' : ''}`,
    );
    this.wake();
  }

  /** Stops a member gracefully (it leaves the group) or, with `crash`, silently (the session expires). */
  async leave(name: string, crash = false): Promise<void> {
    const member = this.members.get(name);
    if (!member) return;
    this.members.delete(name);
    if (crash) member.crashed = true;
    await member.stop(crash);
    this.context.log(`${name} ${crash ? 'crashed' : 'left'}`);
    this.wake();
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
      await this.change();
    }
  }

  /** Resolves once `done()` holds; it is checked after every message, join and crash. */
  async until(done: () => boolean): Promise<void> {
    while (!done()) await this.change();
  }

  /** Resolves once every named member has received `count` records. */
  async received(names: string[], count: number): Promise<void> {
    await this.until(() => names.every((name) => (this.members.get(name)?.received ?? 0) >= count));
  }

  isMember(name: string): boolean {
    return this.members.has(name);
  }

  receivedBy(name: string): number {
    return this.members.get(name)?.received ?? 0;
  }

  expect(condition: boolean, what: string): void {
    this.context.log(`${condition ? '✔' : '✘'} ${what}`);
    if (!condition) this.report.failures.push(what);
  }

  /** Records a measurement in the report and prints it. */
  evidence(key: string, value: unknown, line: string): void {
    this.report.evidence[key] = value;
    this.context.log(`  ${line}`);
  }

  async close(): Promise<void> {
    await Promise.all([...this.members.keys()].map((name) => this.leave(name)));
    await Promise.all(this.windingDown.map((shutDown) => shutDown()));
    this.adminConnection.close();
  }

  private change(): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
