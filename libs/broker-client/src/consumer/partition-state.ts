import type { TopicPartitions } from '@hospital/proto';
import { fromKey, toTopicPartitions, tpKey } from './topic-partition';

/**
 * Everything this member knows about one partition it owns, as KafkaJS keeps
 * it: created when the partition is assigned, dropped when it is revoked, so
 * nothing about a partition outlives its ownership (a pause included, as with
 * Kafka's Java consumer).
 */
export class PartitionState {
  readonly key: string;
  /** Next offset to read; undefined until the starting position is known. */
  position: number | undefined;
  /** Next offset after the last record processed; undefined before the first. */
  processed: number | undefined;
  /** What the broker holds as committed for this member, once known or committed. */
  committed: number | undefined;
  paused = false;
  /** Counts seeks, so a batch already in hand can tell it was overtaken. */
  seeks = 0;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {
    this.key = tpKey(topic, partition);
  }

  get readable(): boolean {
    return !this.paused && this.position !== undefined;
  }

  get uncommitted(): boolean {
    return this.processed !== undefined && this.processed !== this.committed;
  }

  seek(offset: number): void {
    this.position = offset;
    this.seeks++;
  }

  /** Everything up to and including `offset` was processed. */
  markProcessed(offset: number): void {
    this.processed = offset + 1;
    this.position = offset + 1;
  }
}

/** The partitions this member owns now, by topic-partition key. */
export class OwnedPartitions {
  private readonly states = new Map<string, PartitionState>();

  get size(): number {
    return this.states.size;
  }

  keys(): string[] {
    return [...this.states.keys()];
  }

  all(): PartitionState[] {
    return [...this.states.values()];
  }

  get(key: string): PartitionState | undefined {
    return this.states.get(key);
  }

  has(state: PartitionState): boolean {
    return this.states.get(state.key) === state;
  }

  /** A state per newly assigned partition; a partition already owned keeps its state. */
  assign(keys: Iterable<string>): PartitionState[] {
    const added: PartitionState[] = [];
    for (const key of keys) {
      if (this.states.has(key)) continue;
      const { topic, partition } = fromKey(key);
      const state = new PartitionState(topic, partition);
      this.states.set(key, state);
      added.push(state);
    }
    return added;
  }

  revoke(keys: Iterable<string>): PartitionState[] {
    const revoked: PartitionState[] = [];
    for (const key of keys) {
      const state = this.states.get(key);
      if (!state) continue;
      this.states.delete(key);
      revoked.push(state);
    }
    return revoked;
  }

  toTopicPartitions(): TopicPartitions[] {
    return toTopicPartitions(this.states.keys());
  }
}
