import { join } from 'node:path';
import { CleanupPolicy, ErrorReason, byCodeUnits } from '@hospital/proto';
import type { Logger } from 'pino';
import { BrokerError, invalidField } from '../errors/broker-error';
import { nodeFiles } from './files/node-files';
import type { StorageFiles } from './files/storage-files';
import { PartitionLog, type PartitionLogConfig } from './partition-log';

export interface TopicSettings {
  retentionMs: number;
  retentionBytes: number;
  segmentBytes: number;
  cleanupPolicy: CleanupPolicy;
}

export interface Topic {
  name: string;
  internal: boolean;
  settings: TopicSettings;
  partitions: PartitionLog[];
}

export interface TopicStoreOptions {
  dataDir: string;
  defaults: TopicSettings & { indexIntervalBytes: number };
  maxPartitions: number;
  logger: Logger;
  /** The disk; tests pass a fault-injecting double. */
  files?: StorageFiles;
}

interface TopicFile {
  name: string;
  partitions: number;
  internal: boolean;
  settings: TopicSettings;
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const TOPIC_FILE = 'topic.json';

/** Names users may not take: the broker's own topics start with "__". */
export const isInternalTopicName = (name: string): boolean => name.startsWith('__');

export function validateTopicName(name: string): void {
  if (!TOPIC_NAME.test(name) || name === '.' || name === '..') {
    throw new BrokerError(
      ErrorReason.INVALID_TOPIC_EXCEPTION,
      `topic name "${name}" is invalid: use 1-249 characters of a-z, A-Z, 0-9, ".", "_" and "-"`,
      { field: 'name' },
    );
  }
}

/**
 * The topics on this broker and their partition logs, kept on disk as
 * `<dataDir>/topics/<name>/topic.json` plus one directory per partition.
 */
export class TopicStore {
  private readonly topics = new Map<string, Topic>();
  private readonly root: string;
  private readonly partitionsAddedListeners = new Set<(topic: Topic) => void>();
  private readonly partitionFailedListeners = new Set<(log: PartitionLog) => void>();
  private readonly segmentRolledListeners = new Set<(log: PartitionLog) => void>();
  private readonly files: StorageFiles;
  /** Deletions whose files are still being closed and removed. */
  private readonly deleting = new Set<Promise<void>>();
  private deletions = 0;

  constructor(private readonly options: TopicStoreOptions) {
    this.root = join(options.dataDir, 'topics');
    this.files = options.files ?? nodeFiles;
  }

  /** Opens every topic on disk, recovering each partition; drops half-created or half-deleted ones. */
  open(): void {
    this.files.mkdir(this.root);
    for (const entry of this.files.list(this.root)) {
      const dir = join(this.root, entry);
      const bytes = this.files.readFile(join(dir, TOPIC_FILE));
      if (!bytes) {
        this.files.remove(dir);
        continue;
      }
      const saved = JSON.parse(bytes.toString('utf8')) as TopicFile;
      const partitions = Array.from({ length: saved.partitions }, (_, index) =>
        this.openPartition(saved.name, index, saved.settings),
      );
      this.topics.set(saved.name, {
        name: saved.name,
        internal: saved.internal,
        settings: saved.settings,
        partitions,
      });
      const truncated = partitions.reduce((sum, log) => sum + log.truncatedOnRecovery, 0);
      this.options.logger.info(
        { topic: saved.name, partitions: saved.partitions, truncatedBytes: truncated },
        'topic opened',
      );
    }
  }

  private openPartition(topic: string, partition: number, settings: TopicSettings): PartitionLog {
    const config: PartitionLogConfig = {
      segmentBytes: settings.segmentBytes,
      retentionMs: settings.retentionMs,
      retentionBytes: settings.retentionBytes,
      indexIntervalBytes: this.options.defaults.indexIntervalBytes,
    };
    return PartitionLog.open(join(this.root, topic, String(partition)), config, {
      topic,
      partition,
      files: this.files,
      onFailed: (log, failure) => {
        this.options.logger.error(
          { topic, partition, ...failure, durableEndOffset: log.durableEndOffset },
          'partition offline after a disk error: it acknowledges nothing more until the broker restarts',
        );
        for (const listener of this.partitionFailedListeners) listener(log);
      },
      onRolled: (log) => {
        for (const listener of this.segmentRolledListeners) listener(log);
      },
    });
  }

  /** Fills unset (0) settings with the broker defaults and checks the rest. */
  resolveSettings(requested: Partial<TopicSettings> = {}): TopicSettings {
    const { defaults } = this.options;
    const pick = (value: number | undefined, fallback: number) => (value ? value : fallback);
    const settings: TopicSettings = {
      retentionMs: pick(requested.retentionMs, defaults.retentionMs),
      retentionBytes: pick(requested.retentionBytes, defaults.retentionBytes),
      segmentBytes: pick(requested.segmentBytes, defaults.segmentBytes),
      cleanupPolicy: requested.cleanupPolicy || CleanupPolicy.CLEANUP_POLICY_DELETE,
    };
    if (settings.retentionMs < -1)
      throw invalidField('config.retention_ms', 'must be -1 (forever) or positive');
    if (settings.retentionBytes < -1)
      throw invalidField('config.retention_bytes', 'must be -1 (no limit) or positive');
    if (settings.segmentBytes < 1024)
      throw invalidField('config.segment_bytes', 'must be at least 1024');
    if (!(settings.cleanupPolicy in CleanupPolicy) || settings.cleanupPolicy < 0) {
      throw invalidField('config.cleanup_policy', `unknown policy ${settings.cleanupPolicy}`);
    }
    return settings;
  }

  private checkPartitionCount(count: number): void {
    if (!Number.isInteger(count) || count < 1 || count > this.options.maxPartitions) {
      throw new BrokerError(
        ErrorReason.INVALID_PARTITIONS,
        `partitions must be between 1 and ${this.options.maxPartitions}, got ${count}`,
        { field: 'partitions', max_partitions: String(this.options.maxPartitions) },
      );
    }
  }

  create(name: string, partitions: number, settings: TopicSettings, internal = false): Topic {
    validateTopicName(name);
    if (isInternalTopicName(name) !== internal) {
      throw new BrokerError(
        ErrorReason.INVALID_TOPIC_EXCEPTION,
        `topic names starting with "__" are reserved for the broker`,
        { field: 'name' },
      );
    }
    if (this.topics.has(name)) {
      throw new BrokerError(ErrorReason.TOPIC_ALREADY_EXISTS, `topic "${name}" already exists`);
    }
    this.checkPartitionCount(partitions);
    const logs = Array.from({ length: partitions }, (_, index) =>
      this.openPartition(name, index, settings),
    );
    const topic: Topic = { name, internal, settings, partitions: logs };
    this.save(topic); // the topic exists once its file does
    this.topics.set(name, topic);
    this.options.logger.info({ topic: name, partitions, settings }, 'topic created');
    return topic;
  }

  addPartitions(name: string, total: number): Topic {
    const topic = this.get(name);
    this.checkPartitionCount(total);
    if (total <= topic.partitions.length) {
      throw new BrokerError(
        ErrorReason.INVALID_PARTITIONS,
        `topic "${name}" has ${topic.partitions.length} partitions; the new total must be larger (partitions cannot be removed)`,
        { field: 'total_partitions', current_partitions: String(topic.partitions.length) },
      );
    }
    for (let index = topic.partitions.length; index < total; index++) {
      topic.partitions.push(this.openPartition(name, index, topic.settings));
    }
    this.save(topic);
    this.options.logger.info({ topic: name, partitions: total }, 'partitions added');
    for (const listener of this.partitionsAddedListeners) listener(topic);
    return topic;
  }

  /**
   * Deletes a topic. It is gone from the moment this returns (a restart
   * finishes the job); its files are closed and removed once any fsync in
   * flight on them is done.
   */
  delete(name: string): void {
    const topic = this.get(name);
    if (topic.internal) {
      throw new BrokerError(
        ErrorReason.TOPIC_AUTHORIZATION_FAILED,
        `internal topic "${name}" cannot be deleted`,
      );
    }
    this.topics.delete(name);
    const dir = join(this.root, name);
    // Without its file the directory is garbage to the next start; renamed, the name is free at once.
    this.files.remove(join(dir, TOPIC_FILE));
    // "~" is not allowed in topic names, so this cannot collide with one.
    const doomed = `${dir}~deleting-${++this.deletions}`;
    this.files.rename(dir, doomed);
    const removal = Promise.all(topic.partitions.map((log) => log.release()))
      .then(() => this.files.remove(doomed))
      .catch((error: unknown) =>
        this.options.logger.warn(
          { topic: name, err: error },
          'deleted topic files not removed; the next start removes them',
        ),
      )
      .finally(() => this.deleting.delete(removal));
    this.deleting.add(removal);
    this.options.logger.info({ topic: name }, 'topic deleted');
  }

  get(name: string): Topic {
    const topic = this.topics.get(name);
    if (!topic) {
      throw new BrokerError(
        ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
        `topic "${name}" does not exist`,
        { topic: name },
      );
    }
    return topic;
  }

  has(name: string): boolean {
    return this.topics.has(name);
  }

  partition(name: string, partition: number): PartitionLog {
    const topic = this.get(name);
    const log = Number.isInteger(partition) ? topic.partitions[partition] : undefined;
    if (!log) {
      throw new BrokerError(
        ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
        `topic "${name}" has no partition ${partition} (it has ${topic.partitions.length})`,
        { topic: name, partition: String(partition) },
      );
    }
    return log;
  }

  list(): Topic[] {
    return [...this.topics.values()].sort((a, b) => byCodeUnits(a.name, b.name));
  }

  allPartitions(): PartitionLog[] {
    return [...this.topics.values()].flatMap((topic) => topic.partitions);
  }

  /** Called with the topic after partitions are added (the coordinator rebalances subscribers). */
  onPartitionsAdded(listener: (topic: Topic) => void): () => void {
    this.partitionsAddedListeners.add(listener);
    return () => this.partitionsAddedListeners.delete(listener);
  }

  /** Called once per partition that goes offline after a disk error (health reports it). */
  /** Called when a partition closes a segment and starts the next. */
  onSegmentRolled(listener: (log: PartitionLog) => void): () => void {
    this.segmentRolledListeners.add(listener);
    return () => this.segmentRolledListeners.delete(listener);
  }

  onPartitionFailed(listener: (log: PartitionLog) => void): () => void {
    this.partitionFailedListeners.add(listener);
    return () => this.partitionFailedListeners.delete(listener);
  }

  async applyRetention(nowMs: number): Promise<number> {
    const passes: Promise<number>[] = [];
    for (const topic of this.topics.values()) {
      if (topic.settings.cleanupPolicy === CleanupPolicy.CLEANUP_POLICY_COMPACT) continue;
      for (const log of topic.partitions) passes.push(log.applyRetention(nowMs));
    }
    const deleted = await Promise.all(passes);
    return deleted.reduce((sum, count) => sum + count, 0);
  }

  /** Resolves once the files of every topic deleted so far are gone (space is free again). */
  async deletionsSettled(): Promise<void> {
    await Promise.all(this.deleting);
  }

  /** Partitions that stopped after a disk error. */
  failedPartitions(): PartitionLog[] {
    return this.allPartitions().filter((log) => log.failed !== undefined);
  }

  async close(): Promise<void> {
    await Promise.all(this.allPartitions().map((log) => log.close()));
    await this.deletionsSettled();
    this.topics.clear();
  }

  private save(topic: Topic): void {
    const dir = join(this.root, topic.name);
    this.files.mkdir(dir);
    const file: TopicFile = {
      name: topic.name,
      partitions: topic.partitions.length,
      internal: topic.internal,
      settings: topic.settings,
    };
    this.files.writeFileAtomic(join(dir, TOPIC_FILE), JSON.stringify(file, null, 2));
  }
}
