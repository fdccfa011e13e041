import type { FetchRequest } from '@hospital/proto';
import type { Logger } from 'pino';
import type { BrokerConfig } from './config/broker-config';
import { randomUUID } from 'node:crypto';
import { GroupCoordinatorService } from './coordinator/group-coordinator-service';
import { GroupQueries } from './coordinator/group-queries';
import { CoordinatorLog } from './coordinator/runtime/coordinator-log';
import { CoordinatorRuntime } from './coordinator/runtime/coordinator-runtime';
import { SystemClock, type CoordinatorClock } from './coordinator/runtime/timer';
import { DataPlane } from './data/data-plane';
import { TopicAdmin } from './data/topic-admin';
import type { StorageFiles } from './storage/files/storage-files';
import { LogCleaner } from './storage/cleaner/log-cleaner';
import { GroupCommit } from './storage/group-commit';
import type { PartitionFailure } from './storage/partition-log';
import { TopicStore } from './storage/topic-store';

/** A partition that stopped after a disk error, as /health reports it. */
export interface FailedPartition extends PartitionFailure {
  topic: string;
  partition: number;
  durableEndOffset: number;
}

/**
 * The broker without its transport: storage, topics and the data plane,
 * their timers, and an orderly start and stop. The gRPC shell calls into it.
 */
export class Broker {
  readonly store: TopicStore;
  readonly groupCommit: GroupCommit;
  readonly data: DataPlane;
  readonly topics: TopicAdmin;
  readonly coordinator: GroupCoordinatorService;
  readonly groups: GroupQueries;
  readonly cleaner: LogCleaner;
  /** How long the last start took: opening (recovering) the logs, and replaying __consumer_offsets. */
  startup = { openMs: 0, loadMs: 0, records: 0 };
  private readonly coordinatorLog: CoordinatorLog;
  private retentionTimer: NodeJS.Timeout | undefined;
  private offsetsRetentionTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly config: BrokerConfig,
    readonly logger: Logger,
    readonly clock: CoordinatorClock = new SystemClock(),
    /** The disk; tests pass a fault-injecting double. */
    files?: StorageFiles,
  ) {
    const now = () => clock.now();
    this.store = new TopicStore({
      files,
      dataDir: config.dataDir,
      maxPartitions: config.maxPartitions,
      logger: logger.child({ component: 'topics' }),
      defaults: {
        segmentBytes: config.segmentBytes,
        indexIntervalBytes: config.indexIntervalBytes,
        retentionMs: config.retentionMs,
        retentionBytes: config.retentionBytes,
        cleanupPolicy: 0,
      },
    });
    this.groupCommit = new GroupCommit(
      config.durability,
      { fsyncMinIntervalMs: config.fsyncMinIntervalMs, flushIntervalMs: config.flushIntervalMs },
      () => this.store.allPartitions(),
    );
    this.data = new DataPlane(this.store, this.groupCommit, config, now);
    this.topics = new TopicAdmin(this.store, config.maxBatchBytes);
    const coordinatorLogger = logger.child({ component: 'coordinator' });
    this.coordinatorLog = new CoordinatorLog(
      this.store,
      this.groupCommit,
      config.offsetsPartitions,
      now,
      config.offsetsSegmentBytes,
    );
    const runtime = new CoordinatorRuntime({
      log: this.coordinatorLog,
      clock,
      config: {
        initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
        minSessionTimeoutMs: config.groupMinSessionTimeoutMs,
        maxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
        maxGroupSize: config.groupMaxSize,
        offsetsRetentionMs: config.offsetsRetentionMs,
      },
      topics: {
        partitionCount: (topic) => this.store.get(topic).partitions.length,
        logStartOffset: (topic, partition) => this.store.partition(topic, partition).logStartOffset,
        logEndOffset: (topic, partition) => this.store.partition(topic, partition).logEndOffset,
        offsetForTimestamp: (topic, partition, timestampMs) =>
          this.store.partition(topic, partition).offsetForTimestamp(timestampMs),
      },
      newId: randomUUID,
      logger: coordinatorLogger,
    });
    this.coordinator = new GroupCoordinatorService(runtime, coordinatorLogger, undefined, now);
    this.groups = new GroupQueries(runtime.shard, this.store);
    this.cleaner = new LogCleaner(this.store, {
      deleteRetentionMs: config.deleteRetentionMs,
      minCleanableRatio: 0.5,
      maxKeys: 1_000_000,
      now,
      logger: logger.child({ component: 'cleaner' }),
    });
    this.store.onPartitionsAdded((topic) =>
      this.coordinator.onPartitionsAdded(topic.name, topic.partitions.length),
    );
  }

  /** A Fetch arrived from this client id: the rebalance trace records a member's first one after its SyncGroup. */
  noteFetch(clientId: string, request: FetchRequest): void {
    // Most fetches come from members that fetched already: skip them before building anything.
    if (!clientId || !this.coordinator.trace.awaitsFetch(clientId)) return;
    this.coordinator.trace.fetched(
      clientId,
      request.topics.flatMap((topic) =>
        topic.partitions.map((partition) => ({
          topic: topic.name,
          partition: partition.partition,
        })),
      ),
      this.clock.now(),
    );
  }

  /** Opens (and recovers) the logs, creates the configured topics, starts the timers. */
  start(): void {
    const started = performance.now();
    this.store.open();
    for (const { name, partitions } of this.config.initialTopics)
      this.topics.ensureTopic(name, partitions);
    this.coordinatorLog.ensureTopic();
    const opened = performance.now();
    const loaded = this.coordinator.load();
    const loadMs = performance.now() - opened;
    this.startup = { openMs: opened - started, loadMs, records: loaded.records };
    this.logger.info(
      { ...loaded, ms: Math.round(loadMs) },
      'coordinator state rebuilt from __consumer_offsets',
    );
    this.groupCommit.start();
    this.cleaner.start(this.config.logCleanerIntervalMs);
    this.retentionTimer = setInterval(() => {
      this.store
        .applyRetention(this.clock.now())
        .then((deleted) => {
          if (deleted > 0)
            this.logger.info({ deletedSegments: deleted }, 'retention deleted segments');
        })
        .catch((error: unknown) => this.logger.error({ err: error }, 'retention pass failed'));
    }, this.config.retentionCheckMs);
    this.retentionTimer.unref();
    this.offsetsRetentionTimer = setInterval(() => {
      this.coordinator
        .expireGroups()
        .catch((error: unknown) =>
          this.logger.warn({ err: error }, 'offsets retention pass failed; the next one retries'),
        );
    }, this.config.offsetsRetentionCheckMs);
    this.offsetsRetentionTimer.unref();
    this.logger.info(
      {
        dataDir: this.config.dataDir,
        durability: this.config.durability,
        topics: this.store.list().length,
        ms: Math.round(performance.now() - started),
      },
      'broker storage ready',
    );
  }

  /** Partitions offline after a disk error: they stay so until a restart re-validates them. */
  failedPartitions(): FailedPartition[] {
    return this.store.failedPartitions().map((log) => ({
      topic: log.topic,
      partition: log.partition,
      durableEndOffset: log.durableEndOffset,
      ...(log.failed as PartitionFailure),
    }));
  }

  /** Releases long-polling fetches so the transport can drain at once. */
  wakeFetchers(): void {
    this.data.appended.wakeAll();
  }

  /** Flushes everything to disk and closes the logs. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.retentionTimer);
    clearInterval(this.offsetsRetentionTimer);
    this.wakeFetchers();
    this.coordinator.shutdown();
    await this.cleaner.stop();
    if (this.clock instanceof SystemClock) this.clock.cancelAll();
    await this.groupCommit.stop();
    await this.store.close();
    this.logger.info('broker storage closed cleanly');
  }
}
