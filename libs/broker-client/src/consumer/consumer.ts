import {
  decodeRecordBatch,
  ErrorReason,
  OPERATOR_RESET_METADATA,
  type IncomingRecord,
  type TopicPartitions,
} from '@hospital/proto';
import type { BrokerConnection } from '../connection/broker-connection';
import { BrokerClientError, toClientError } from '../errors';
import { Instrumentation } from '../instrumentation';
import { backoffMs, DEFAULT_RETRY, delay, withRetry, type RetryOptions } from '../retry';
import { ASSIGNORS, type Assignor } from './assignors';
import { GroupMembership } from './membership';
import { fromKey, keysOf, toTopicPartitions, tpKey, type TopicPartition } from './topic-partition';

export type CommitMode = 'auto' | 'sync' | 'async' | 'manual';

export interface ConsumerOptions {
  groupId: string;
  /** Static membership (group.instance.id): a restart within the session timeout keeps the assignment. */
  groupInstanceId?: string;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Assignors in order of preference, by name or as objects (default ['range']). */
  assignors?: (string | Assignor)[];
  /** auto: every autoCommitIntervalMs; sync: after each batch, waited for; async: after each batch, not waited for; manual: commitOffsets() only. */
  commitMode?: CommitMode;
  autoCommitIntervalMs?: number;
  /** Where to start without a committed offset (default: latest). */
  fromBeginning?: boolean;
  /**
   * Effectively-once consumers store the next offset with their own writes:
   * given a newly assigned partition and the broker's committed offset (-1 when
   * none), return the offset the application stored (or undefined). The member
   * resumes from the later of the two.
   */
  storedOffset?: (partition: TopicPartition) => Promise<number | undefined>;
  maxWaitMs?: number;
  maxBytesPerPartition?: number;
  retry?: RetryOptions;
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: IncomingRecord;
  heartbeat(): Promise<void>;
}

export interface Batch {
  topic: string;
  partition: number;
  highWatermark: number;
  messages: IncomingRecord[];
}

export interface EachBatchPayload {
  batch: Batch;
  /** Marks everything up to and including `offset` as processed. */
  resolveOffset(offset: number): void;
  heartbeat(): Promise<void>;
  /** False once the consumer stops or the partition was revoked. */
  isRunning(): boolean;
}

export interface RunOptions {
  eachMessage?: (payload: EachMessagePayload) => Promise<void>;
  eachBatch?: (payload: EachBatchPayload) => Promise<void>;
  /** Partitions processed at the same time (default 1). */
  partitionsConsumedConcurrently?: number;
}

export interface ConsumerEvents {
  'consumer.group.join': {
    groupId: string;
    memberId: string;
    leaderId: string;
    isLeader: boolean;
    generationId: number;
    protocol: string;
    assignment: { [topic: string]: number[] };
    pauseMs: number;
  };
  'consumer.rebalancing': { groupId: string; memberId: string; reason: string };
  'consumer.revoke': { groupId: string; partitions: TopicPartition[] };
  'consumer.commit': {
    groupId: string;
    offsets: { topic: string; partition: number; offset: number }[];
  };
  'consumer.heartbeat': { groupId: string; memberId: string; generationId: number };
  'consumer.crash': { groupId: string; error: Error; restart: boolean };
  'consumer.stop': { groupId: string };
}

/**
 * A consumer-group member, in the manner of KafkaJS and the Java consumer:
 * subscribe(), run() with eachMessage or eachBatch, background heartbeats,
 * eager or cooperative rebalancing, four commit modes, pause/resume/seek.
 */
export class Consumer {
  readonly events = new Instrumentation<ConsumerEvents>();
  private readonly options: Required<
    Omit<ConsumerOptions, 'groupInstanceId' | 'assignors' | 'storedOffset'>
  > & {
    groupInstanceId?: string;
  };
  private readonly storedOffset: ConsumerOptions['storedOffset'];
  private readonly assignors: Assignor[];
  private readonly cooperative: boolean;
  private readonly membership: GroupMembership;
  private topics: string[] = [];
  /** Partitions this member owns now, and where it reads next in each. */
  private readonly assigned = new Set<string>();
  private readonly positions = new Map<string, number>();
  /** Next offset after the last processed record, per partition, and what was last committed. */
  private readonly processed = new Map<string, number>();
  /**
   * Operator resets this member has applied, per partition, and whether it
   * has processed records since. A rebalance before the member's next commit
   * still shows the reset; applying it again would re-read what was replayed.
   */
  private readonly appliedResets = new Map<string, { reset: string; progressed: boolean }>();
  private readonly committed = new Map<string, number>();
  private readonly paused = new Set<string>();
  /** Counts seeks per partition, so a batch in hand can tell it was overtaken. */
  private readonly seeks = new Map<string, number>();
  private running = false;
  private rejoinReason: string | undefined = 'first join';
  private rebalanceStartedAt = 0;
  private fetchAbort: AbortController | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private rebalancing: Promise<void> | undefined;
  private autoCommitTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: BrokerConnection,
    options: ConsumerOptions,
  ) {
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
    this.storedOffset = options.storedOffset;
    this.assignors = (options.assignors ?? ['range']).map((assignor) => {
      if (typeof assignor !== 'string') return assignor;
      const create = ASSIGNORS[assignor];
      if (!create)
        throw new Error(
          `unknown assignor "${assignor}"; use one of ${Object.keys(ASSIGNORS).join(', ')}`,
        );
      return create();
    });
    // Cooperative only when every offered assignor is: a group may otherwise pick an eager one.
    this.cooperative = this.assignors.every(
      (assignor) => assignor.rebalanceProtocol === 'cooperative',
    );
    this.membership = new GroupMembership(
      connection,
      { ...this.options, assignors: this.assignors },
      (reason) => this.requestRejoin(reason),
      (error) => this.crash(error),
      () =>
        this.events.emit('consumer.heartbeat', () => ({
          groupId: this.options.groupId,
          memberId: this.membership.memberId,
          generationId: this.membership.generationId,
        })),
    );
  }

  get memberId(): string {
    return this.membership.memberId;
  }

  get generationId(): number {
    return this.membership.generationId;
  }

  assignment(): TopicPartitions[] {
    return toTopicPartitions(this.assigned);
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
    if (this.options.commitMode === 'auto') {
      this.autoCommitTimer = setInterval(
        // A failed interval commit is retried at the next tick, as Kafka's auto-commit does.
        () => void this.commitProcessed().catch(() => {}),
        this.options.autoCommitIntervalMs,
      );
    }
    this.loop = this.mainLoop(options).catch((error: unknown) => this.crash(toClientError(error)));
    // The loop also ends without a join when stop() comes first: then run() simply resolves.
    await Promise.race([started, this.loop]);
  }

  /** Tells the loop to rejoin as soon as the current batch is done (eager) or alongside it (cooperative). */
  private requestRejoin(reason: string): void {
    if (!this.running || this.rejoinReason !== undefined) return;
    this.rejoinReason = reason;
    this.rebalanceStartedAt = Date.now();
    this.events.emit('consumer.rebalancing', {
      groupId: this.options.groupId,
      memberId: this.memberId,
      reason,
    });
    this.fetchAbort?.abort();
    this.wake?.();
  }

  private async mainLoop(options: RunOptions): Promise<void> {
    while (this.running) {
      if (this.rejoinReason !== undefined && !this.rebalancing) {
        this.rebalancing = this.rebalance()
          .catch((error: unknown) => this.crash(toClientError(error)))
          .finally(() => (this.rebalancing = undefined));
        // Eager: the group stops consuming until the new assignment arrives.
        // Cooperative: partitions that stay keep being consumed meanwhile.
        if (!this.cooperative || this.assigned.size === 0) await this.rebalancing;
      }
      if (!this.running) break;
      const records = await this.fetch();
      if (records.length > 0) await this.process(records, options);
      if (this.options.commitMode === 'sync')
        await this.commitProcessed().catch((error: unknown) => this.onCommitFailure(error));
      else if (this.options.commitMode === 'async')
        void this.commitProcessed().catch((error: unknown) => this.onCommitFailure(error));
    }
    await this.rebalancing;
  }

  /** A commit refused because the group moved on is retried after the rejoin; anything else is fatal. */
  private onCommitFailure(error: unknown): void {
    const failure = toClientError(error);
    const rebalanceRelated = [
      ErrorReason.REBALANCE_IN_PROGRESS,
      ErrorReason.ILLEGAL_GENERATION,
      ErrorReason.UNKNOWN_MEMBER_ID,
    ].includes(failure.reason);
    if (rebalanceRelated) this.requestRejoin(failure.message);
    else if (!failure.retriable) this.crash(failure);
  }

  private async rebalance(): Promise<void> {
    const reason = this.rejoinReason as string;
    const started = this.rebalanceStartedAt || Date.now();
    if (!this.cooperative) {
      // Eager: stop consuming, commit what was processed, give everything up, then rejoin.
      await this.commitProcessed().catch(() => {});
      this.revoke([...this.assigned]);
    }
    this.rejoinReason = undefined;
    let result;
    try {
      result = await this.membership.join(this.topics, this.ownedForJoin, reason);
    } catch (error) {
      const failure = toClientError(error);
      if (failure.retriable) {
        this.rejoinReason = reason;
        await delay(backoffMs(0, this.options.retry));
        return;
      }
      throw failure;
    }
    const next = keysOf(result.assignment);
    const revoked = [...this.assigned].filter((key) => !next.has(key));
    if (revoked.length > 0) {
      await this.commitProcessed().catch(() => {});
      this.revoke(revoked);
    }
    const added = [...next].filter((key) => !this.assigned.has(key));
    await this.initPositions(added);
    for (const key of added) this.assigned.add(key);
    this.lastOwned = result.assignment;
    const assignment: { [topic: string]: number[] } = {};
    for (const { topic, partitions } of result.assignment) assignment[topic] = partitions;
    this.events.emit('consumer.group.join', {
      groupId: this.options.groupId,
      memberId: result.memberId,
      leaderId: result.leaderId,
      isLeader: result.leaderId === result.memberId,
      generationId: result.generationId,
      protocol: result.protocolName,
      assignment,
      pauseMs: Date.now() - started,
    });
    this.rebalanceStartedAt = 0;
    // Cooperative: what we gave up is free now; a follow-up rebalance hands it to its new owner.
    if (this.cooperative && revoked.length > 0)
      this.requestRejoin(`revoked ${revoked.length} partition(s) for their new owner`);
  }

  /** What this member reports owning when it joins (sticky assignors keep it). */
  private lastOwned: TopicPartitions[] = [];
  private get ownedForJoin(): TopicPartitions[] {
    return this.cooperative ? toTopicPartitions(this.assigned) : this.lastOwned;
  }

  private revoke(keys: string[]): void {
    if (keys.length === 0) return;
    for (const key of keys) {
      this.assigned.delete(key);
      this.positions.delete(key);
      this.processed.delete(key);
      this.committed.delete(key);
    }
    this.events.emit('consumer.revoke', {
      groupId: this.options.groupId,
      partitions: keys.map(fromKey),
    });
  }

  /** Start at the committed offset, else at the log start or end (fromBeginning). */
  private async initPositions(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const committed = await withRetry(
      () =>
        this.connection.call('offsetFetch', {
          groupId: this.options.groupId,
          topics: toTopicPartitions(keys).map(({ topic, partitions }) => ({
            name: topic,
            partitions,
          })),
        }),
      this.options.retry,
    );
    const missing: string[] = [];
    for (const topic of committed.topics) {
      for (const partition of topic.partitions) {
        const key = tpKey(topic.name, partition.partition);
        const stored =
          (await this.storedOffset?.({ topic: topic.name, partition: partition.partition })) ?? -1;
        // An operator's reset (ResetOffsets) wins over the application's stored
        // offset, once: after records were processed from it, the stored offset
        // tracks the replay.
        const reset =
          partition.metadata === OPERATOR_RESET_METADATA
            ? `${partition.committedOffset}@${partition.commitTimestampMs}`
            : undefined;
        const applied = this.appliedResets.get(key);
        const applyReset = reset !== undefined && !(applied?.reset === reset && applied.progressed);
        if (applyReset) this.appliedResets.set(key, { reset, progressed: false });
        const resumeAt = applyReset
          ? partition.committedOffset
          : Math.max(partition.committedOffset, stored);
        if (resumeAt >= 0) {
          this.positions.set(key, resumeAt);
          if (partition.committedOffset >= 0) this.committed.set(key, partition.committedOffset);
        } else missing.push(key);
      }
    }
    await this.resetPositions(missing);
  }

  private async resetPositions(keys: string[]): Promise<void> {
    for (const { topic, partitions } of toTopicPartitions(keys)) {
      const spec = this.options.fromBeginning
        ? { $case: 'earliest' as const, value: true }
        : { $case: 'latest' as const, value: true };
      const listed = await withRetry(
        () => this.connection.call('listOffsets', { topic, partitions, spec: { spec } }),
        this.options.retry,
      );
      for (const partition of listed.partitions)
        this.positions.set(tpKey(topic, partition.partition), partition.offset);
    }
  }

  private async fetch(): Promise<
    { key: string; records: IncomingRecord[]; highWatermark: number }[]
  > {
    const readable = [...this.assigned].filter(
      (key) => !this.paused.has(key) && this.positions.has(key),
    );
    if (readable.length === 0) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, this.options.maxWaitMs);
      });
      this.wake = undefined;
      return [];
    }
    const asked = new Map(readable.map((key) => [key, this.positions.get(key) as number]));
    this.fetchAbort = new AbortController();
    let response;
    try {
      response = await this.connection.call(
        'fetch',
        {
          maxWaitMs: this.options.maxWaitMs,
          minBytes: 1,
          maxBytes: 16 * 1024 * 1024,
          topics: toTopicPartitions(readable).map(({ topic, partitions }) => ({
            name: topic,
            partitions: partitions.map((partition) => ({
              partition,
              fetchOffset: asked.get(tpKey(topic, partition)) as number,
              partitionMaxBytes: this.options.maxBytesPerPartition,
            })),
          })),
        },
        { timeoutMs: this.options.maxWaitMs + 10_000, signal: this.fetchAbort.signal },
      );
    } catch (error) {
      const failure = toClientError(error);
      if (this.fetchAbort.signal.aborted) return [];
      if (
        failure.is(ErrorReason.OFFSET_OUT_OF_RANGE) ||
        failure.is(ErrorReason.UNKNOWN_TOPIC_OR_PARTITION)
      ) {
        await this.resetPositions(readable);
        return [];
      }
      if (!failure.retriable) throw failure;
      await delay(backoffMs(1, this.options.retry));
      return [];
    } finally {
      this.fetchAbort = undefined;
    }
    const out: { key: string; records: IncomingRecord[]; highWatermark: number }[] = [];
    const outOfRange: string[] = [];
    for (const topic of response.topics) {
      for (const slot of topic.partitions) {
        const key = tpKey(topic.name, slot.partition);
        if (slot.error && slot.error.reason !== ErrorReason.ERROR_REASON_UNSPECIFIED) {
          if (slot.error.reason === ErrorReason.OFFSET_OUT_OF_RANGE) outOfRange.push(key);
          continue;
        }
        // Drop answers for partitions revoked or sought while the fetch was out.
        if (!this.assigned.has(key) || this.positions.get(key) !== asked.get(key)) continue;
        const from = asked.get(key) as number;
        const records = slot.batches
          .flatMap(decodeRecordBatch)
          .filter((record) => record.offset >= from);
        if (records.length > 0) out.push({ key, records, highWatermark: slot.highWatermark });
      }
    }
    await this.resetPositions(outOfRange);
    return out;
  }

  private async process(
    batches: { key: string; records: IncomingRecord[]; highWatermark: number }[],
    options: RunOptions,
  ): Promise<void> {
    const concurrency = Math.max(1, options.partitionsConsumedConcurrently ?? 1);
    const queue = [...batches];
    const worker = async () => {
      for (let item = queue.shift(); item; item = queue.shift())
        await this.processPartition(item, options);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  }

  private async processPartition(
    item: { key: string; records: IncomingRecord[]; highWatermark: number },
    options: RunOptions,
  ): Promise<void> {
    const { topic, partition } = fromKey(item.key);
    // A seek while this batch is in hand wins: the rest of the batch is dropped.
    const seekMark = this.seeks.get(item.key) ?? 0;
    const stillOwned = () =>
      this.running &&
      this.assigned.has(item.key) &&
      (this.seeks.get(item.key) ?? 0) === seekMark &&
      (this.cooperative || this.rejoinReason === undefined);
    const heartbeat = async () => {};
    const resolveOffset = (offset: number) => {
      if (!this.assigned.has(item.key) || (this.seeks.get(item.key) ?? 0) !== seekMark) return;
      this.processed.set(item.key, offset + 1);
      this.positions.set(item.key, offset + 1);
      const reset = this.appliedResets.get(item.key);
      if (reset) reset.progressed = true;
    };
    for (let attempt = 0; ; attempt++) {
      const start = this.positions.get(item.key) ?? 0;
      const messages = item.records.filter((record) => record.offset >= start);
      if (messages.length === 0 || !stillOwned()) return;
      try {
        if (options.eachBatch) {
          await options.eachBatch({
            batch: { topic, partition, highWatermark: item.highWatermark, messages },
            resolveOffset,
            heartbeat,
            isRunning: stillOwned,
          });
        } else {
          for (const message of messages) {
            if (!stillOwned()) return;
            await (options.eachMessage as NonNullable<RunOptions['eachMessage']>)({
              topic,
              partition,
              message,
              heartbeat,
            });
            resolveOffset(message.offset);
          }
        }
        return;
      } catch (error) {
        // At-least-once: the failed record is retried from where processing stopped.
        const failure = error instanceof Error ? error : new Error(String(error));
        const giveUp = attempt >= this.options.retry.retries;
        this.events.emit('consumer.crash', {
          groupId: this.options.groupId,
          error: failure,
          restart: !giveUp,
        });
        if (giveUp) throw failure;
        await delay(backoffMs(attempt, this.options.retry));
      }
    }
  }

  /** Commits processed offsets not yet committed (used by auto, sync and async modes, and on revoke and stop). */
  private async commitProcessed(): Promise<void> {
    const pending = new Map(
      [...this.processed].filter(
        ([key, offset]) => this.assigned.has(key) && this.committed.get(key) !== offset,
      ),
    );
    if (pending.size === 0 || !this.membership.memberId) return;
    await this.commit(pending);
  }

  private async commit(offsets: Map<string, number>): Promise<void> {
    await this.membership.commit(offsets);
    for (const [key, offset] of offsets) this.committed.set(key, offset);
    this.events.emit('consumer.commit', () => ({
      groupId: this.options.groupId,
      offsets: [...offsets].map(([key, offset]) => ({ ...fromKey(key), offset })),
    }));
  }

  /** Manual commits: the next offset to read per partition (last processed + 1). */
  async commitOffsets(
    offsets: { topic: string; partition: number; offset: number }[],
  ): Promise<void> {
    await this.commit(
      new Map(offsets.map(({ topic, partition, offset }) => [tpKey(topic, partition), offset])),
    );
  }

  pause(partitions: { topic: string; partitions: number[] }[]): void {
    for (const { topic, partitions: list } of partitions)
      for (const partition of list) this.paused.add(tpKey(topic, partition));
    this.fetchAbort?.abort();
  }

  resume(partitions: { topic: string; partitions: number[] }[]): void {
    for (const { topic, partitions: list } of partitions)
      for (const partition of list) this.paused.delete(tpKey(topic, partition));
    this.wake?.();
  }

  /** Reads `partition` from `offset` next. */
  seek({ topic, partition, offset }: { topic: string; partition: number; offset: number }): void {
    const key = tpKey(topic, partition);
    if (!this.assigned.has(key))
      throw new BrokerClientError(
        `seek: partition ${topic}/${partition} is not assigned to this member`,
        ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
        5,
        false,
      );
    this.positions.set(key, offset);
    this.seeks.set(key, (this.seeks.get(key) ?? 0) + 1);
    this.fetchAbort?.abort();
  }

  private crash(error: BrokerClientError | Error): void {
    if (!this.running) return;
    this.events.emit('consumer.crash', { groupId: this.options.groupId, error, restart: false });
    void this.shutdown(false);
  }

  /** Graceful stop: finish the batch, commit, leave the group. */
  async stop(): Promise<void> {
    await this.shutdown(true);
  }

  private async shutdown(graceful: boolean): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.autoCommitTimer);
    // A join held by the broker, or retried while it is away, ends now.
    this.membership.close();
    this.fetchAbort?.abort();
    this.wake?.();
    await this.loop?.catch(() => {});
    if (graceful && this.options.commitMode !== 'manual')
      await this.commitProcessed().catch(() => {});
    await this.membership.leave(graceful ? 'consumer stopped' : 'consumer crashed');
    this.events.emit('consumer.stop', { groupId: this.options.groupId });
  }
}
