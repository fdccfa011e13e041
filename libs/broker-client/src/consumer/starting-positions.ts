import { OPERATOR_RESET_METADATA } from '@hospital/proto';
import type { BrokerConnection } from '../connection/broker-connection';
import { withRetry, type RetryOptions } from '../retry';
import type { PartitionState } from './partition-state';
import { toTopicPartitions, tpKey, type TopicPartition } from './topic-partition';

export interface StartingPositionOptions {
  groupId: string;
  fromBeginning: boolean;
  retry: RetryOptions;
  storedOffset?: (partition: TopicPartition) => Promise<number | undefined>;
}

/**
 * Where a newly assigned partition is read from: the committed offset, or
 * the offset the application stored with its own writes if that is later;
 * an operator's reset wins over the stored offset until the next commit;
 * with neither, the log start or end.
 */
export class StartingPositions {
  /**
   * Operator resets this member has applied, per partition, and how far it
   * has read since (the next offset). It outlives ownership on purpose: a
   * rebalance before the member's next commit still shows the reset, and
   * applying it again would re-read what was replayed. An entry goes as soon
   * as the committed offset is no longer that reset.
   */
  private readonly appliedResets = new Map<string, { reset: string; readTo?: number }>();

  constructor(
    private readonly connection: BrokerConnection,
    private readonly options: StartingPositionOptions,
  ) {}

  async initialize(states: PartitionState[]): Promise<void> {
    if (states.length === 0) return;
    const byKey = new Map(states.map((state) => [state.key, state]));
    const committed = await withRetry(
      () =>
        this.connection.call('offsetFetch', {
          groupId: this.options.groupId,
          topics: toTopicPartitions(byKey.keys()).map(({ topic, partitions }) => ({
            name: topic,
            partitions,
          })),
        }),
      this.options.retry,
    );
    const missing: PartitionState[] = [];
    for (const topic of committed.topics) {
      for (const partition of topic.partitions) {
        const state = byKey.get(tpKey(topic.name, partition.partition));
        if (!state) continue;
        const stored =
          (await this.options.storedOffset?.({
            topic: topic.name,
            partition: partition.partition,
          })) ?? -1;
        const reset =
          partition.metadata === OPERATOR_RESET_METADATA
            ? `${partition.committedOffset}@${partition.commitTimestampMs}`
            : undefined;
        const resumeAt =
          this.resumeAfterReset(state.key, reset, partition.committedOffset) ??
          Math.max(partition.committedOffset, stored);
        if (resumeAt >= 0) {
          state.position = resumeAt;
          if (partition.committedOffset >= 0) state.committed = partition.committedOffset;
        } else missing.push(state);
      }
    }
    await this.reset(missing);
  }

  /** Records were processed from the partition: remember how far past an applied reset. */
  progressed(state: PartitionState): void {
    const applied = this.appliedResets.get(state.key);
    if (applied && state.position !== undefined) applied.readTo = state.position;
  }

  /** Back to the log start or end (fromBeginning): no offset, or the offset is out of range. */
  async reset(states: PartitionState[]): Promise<void> {
    const byKey = new Map(states.map((state) => [state.key, state]));
    for (const { topic, partitions } of toTopicPartitions(byKey.keys())) {
      const spec = this.options.fromBeginning
        ? { $case: 'earliest' as const, value: true }
        : { $case: 'latest' as const, value: true };
      const listed = await withRetry(
        () => this.connection.call('listOffsets', { topic, partitions, spec: { spec } }),
        this.options.retry,
      );
      for (const partition of listed.partitions) {
        const state = byKey.get(tpKey(topic, partition.partition));
        if (state) state.position = partition.offset;
      }
    }
  }

  /**
   * Where to resume while an operator's reset is the committed offset: at
   * the reset the first time; after this member read on from it, where it
   * read to. Not at the stored offset: it only moves forward, so it still
   * holds the position the operator overruled, and resuming there would cut
   * the replay short and leave the reset committed for good. Undefined when
   * no reset is committed.
   */
  private resumeAfterReset(
    key: string,
    reset: string | undefined,
    resetOffset: number,
  ): number | undefined {
    if (reset === undefined) {
      this.appliedResets.delete(key);
      return undefined;
    }
    const applied = this.appliedResets.get(key);
    if (applied?.reset === reset && applied.readTo !== undefined) return applied.readTo;
    this.appliedResets.set(key, { reset });
    return resetOffset;
  }
}
