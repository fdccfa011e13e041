import { ErrorReason, type TopicPartitions } from '@hospital/proto';
import type { BrokerConnection } from '../connection/broker-connection';
import { BrokerClientError, toClientError } from '../errors';
import { Instrumentation } from '../instrumentation';
import { DEFAULT_RETRY, type RetryOptions } from '../retry';
import { resolveAssignors } from './assignors';
import type { CommitMode, ConsumerEvents, ConsumerOptions, RunOptions } from './consumer-options';
import { Fetcher } from './fetcher';
import { GroupMembership } from './membership';
import { OffsetCommitter } from './offset-committer';
import { OwnedPartitions } from './partition-state';
import { Rebalancer } from './rebalancer';
import { Runner } from './runner';
import { StartingPositions } from './starting-positions';
import { tpKey } from './topic-partition';

export type {
  Batch,
  CommitMode,
  ConsumerEvents,
  ConsumerOptions,
  EachBatchPayload,
  EachMessagePayload,
  RunOptions,
} from './consumer-options';

interface ResolvedOptions {
  groupId: string;
  groupInstanceId?: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  commitMode: CommitMode;
  autoCommitIntervalMs: number;
  fromBeginning: boolean;
  maxWaitMs: number;
  maxBytesPerPartition: number;
  retry: RetryOptions;
}

/**
 * A consumer-group member, in the manner of KafkaJS and the Java consumer:
 * subscribe(), run() with eachMessage or eachBatch, background heartbeats,
 * eager or cooperative rebalancing, four commit modes, pause/resume/seek.
 * This class wires the parts (docs/architecture.md, "The consumer"): the
 * membership, the rebalancer, the fetcher, the runner and the committer,
 * over one PartitionState per owned partition.
 */
export class Consumer {
  readonly events = new Instrumentation<ConsumerEvents>();
  private readonly options: ResolvedOptions;
  private readonly membership: GroupMembership;
  private readonly owned = new OwnedPartitions();
  private readonly fetcher: Fetcher;
  private readonly committer: OffsetCommitter;
  private readonly rebalancer: Rebalancer;
  private readonly runner: Runner;
  private topics: string[] = [];
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(connection: BrokerConnection, options: ConsumerOptions) {
    this.options = {
      groupId: options.groupId,
      groupInstanceId: options.groupInstanceId,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 15_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1_000,
      commitMode: options.commitMode ?? 'auto',
      autoCommitIntervalMs: options.autoCommitIntervalMs ?? 5_000,
      fromBeginning: options.fromBeginning ?? false,
      maxWaitMs: options.maxWaitMs ?? 500,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
      retry: options.retry ?? DEFAULT_RETRY,
    };
    const { groupId, retry } = this.options;
    const assignors = resolveAssignors(options.assignors ?? ['range']);
    // Cooperative only when every offered assignor is: a group may otherwise pick an eager one.
    const cooperative = assignors.every((assignor) => assignor.rebalanceProtocol === 'cooperative');
    this.membership = new GroupMembership(
      connection,
      { ...this.options, assignors },
      (reason) => this.rebalancer.request(reason),
      (error) => this.crash(error),
      () =>
        this.events.emit('consumer.heartbeat', () => ({
          groupId,
          memberId: this.membership.memberId,
          generationId: this.membership.generationId,
        })),
    );
    const positions = new StartingPositions(connection, {
      groupId,
      fromBeginning: this.options.fromBeginning,
      retry,
      storedOffset: options.storedOffset,
    });
    this.fetcher = new Fetcher(connection, this.owned, positions, this.options);
    this.committer = new OffsetCommitter(
      this.membership,
      this.owned,
      this.options,
      this.events,
      (reason) => this.rebalancer.request(reason),
      (error) => this.crash(error),
    );
    const isRunning = () => this.running;
    this.rebalancer = new Rebalancer(
      this.membership,
      this.owned,
      positions,
      this.committer,
      this.events,
      { groupId, cooperative, retry },
      {
        topics: () => this.topics,
        isRunning,
        interrupt: () => this.fetcher.interrupt(),
        crash: (error) => this.crash(error),
      },
    );
    this.runner = new Runner(
      this.owned,
      this.fetcher,
      this.committer,
      this.rebalancer,
      positions,
      this.events,
      { groupId, cooperative, retry },
      { isRunning, heartbeat: () => this.membership.heartbeatIfDue() },
    );
  }

  get memberId(): string {
    return this.membership.memberId;
  }

  get generationId(): number {
    return this.membership.generationId;
  }

  assignment(): TopicPartitions[] {
    return this.owned.toTopicPartitions();
  }

  subscribe({ topics }: { topics: string[] }): void {
    this.topics = [...new Set([...this.topics, ...topics])];
  }

  /**
   * Starts consuming; resolves once the first assignment is in place, and
   * rejects if the member fails for good before that (a session timeout the
   * broker refuses, an inconsistent protocol, a fenced instance), so a
   * service never reports a healthy start it did not make.
   */
  async run(options: RunOptions): Promise<void> {
    if (!options.eachMessage && !options.eachBatch)
      throw new Error('run() needs eachMessage or eachBatch');
    if (this.topics.length === 0) throw new Error('subscribe() to at least one topic before run()');
    this.running = true;
    const started = new Promise<void>((resolve, reject) => {
      const offJoin = this.events.on('consumer.group.join', () => {
        done();
        resolve();
      });
      const offCrash = this.events.on('consumer.crash', ({ error, restart }) => {
        if (restart) return;
        done();
        reject(error);
      });
      const done = () => {
        offJoin();
        offCrash();
      };
    });
    this.committer.start();
    this.loop = this.runner
      .loop(options)
      .catch((error: unknown) => this.crash(toClientError(error)));
    // The loop also ends without a join when stop() comes first: then run() simply resolves.
    await Promise.race([started, this.loop]);
  }

  /** Manual commits: the next offset to read per partition (last processed + 1). */
  async commitOffsets(
    offsets: { topic: string; partition: number; offset: number }[],
  ): Promise<void> {
    await this.committer.commit(
      new Map(offsets.map(({ topic, partition, offset }) => [tpKey(topic, partition), offset])),
    );
  }

  /** Stops fetching from owned partitions; a rebalance that takes a partition away drops its pause. */
  pause(partitions: { topic: string; partitions: number[] }[]): void {
    for (const { topic, partitions: list } of partitions)
      for (const partition of list) {
        const state = this.owned.get(tpKey(topic, partition));
        if (state) state.paused = true;
      }
    this.fetcher.interrupt();
  }

  resume(partitions: { topic: string; partitions: number[] }[]): void {
    for (const { topic, partitions: list } of partitions)
      for (const partition of list) {
        const state = this.owned.get(tpKey(topic, partition));
        if (state) state.paused = false;
      }
    this.fetcher.interrupt();
  }

  /** Reads `partition` from `offset` next. */
  seek({ topic, partition, offset }: { topic: string; partition: number; offset: number }): void {
    const state = this.owned.get(tpKey(topic, partition));
    if (!state)
      throw new BrokerClientError(
        `seek: partition ${topic}/${partition} is not assigned to this member`,
        ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
        5,
        false,
      );
    state.seek(offset);
    this.fetcher.interrupt();
  }

  /** Graceful stop: finish the batch, commit, leave the group. */
  async stop(): Promise<void> {
    await this.shutdown(true);
  }

  private crash(error: BrokerClientError | Error): void {
    if (!this.running) return;
    this.events.emit('consumer.crash', { groupId: this.options.groupId, error, restart: false });
    void this.shutdown(false);
  }

  private async shutdown(graceful: boolean): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.committer.stop();
    // A join held by the broker, or retried while it is away, ends now.
    this.membership.close();
    this.fetcher.interrupt();
    // The loop's own failure was reported as a crash when it happened.
    await this.loop;
    if (graceful && this.options.commitMode !== 'manual')
      // Best effort: what is not committed is read again by the next owner, at least once.
      await this.committer.commitProcessed().catch(() => undefined);
    await this.membership.leave(graceful ? 'consumer stopped' : 'consumer crashed');
    this.events.emit('consumer.stop', { groupId: this.options.groupId });
  }
}
