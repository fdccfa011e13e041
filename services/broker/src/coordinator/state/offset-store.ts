import { byCodeUnits, topicPartitionKey } from '@hospital/proto';
import type { internal } from '@hospital/proto';

export interface CommittedOffset {
  offset: number;
  metadata: string;
  commitTimestampMs: number;
}

const slot = topicPartitionKey;

export type StoredOffset = CommittedOffset & { topic: string; partition: number };

/** Committed offsets, read-only. */
export interface OffsetsView {
  get(groupId: string, topic: string, partition: number): CommittedOffset | undefined;
  /** Every committed offset of a group, sorted by topic and partition. */
  all(groupId: string): StoredOffset[];
  groupIds(): string[];
}

/** Committed offsets per group, changed only by replaying __consumer_offsets records. */
export class OffsetStore implements OffsetsView {
  private readonly byGroup = new Map<string, Map<string, StoredOffset>>();

  replay(key: internal.OffsetCommitKey, value: internal.OffsetCommitValue | undefined): void {
    let offsets = this.byGroup.get(key.groupId);
    if (!value) {
      offsets?.delete(slot(key.topic, key.partition));
      if (offsets?.size === 0) this.byGroup.delete(key.groupId);
      return;
    }
    if (!offsets) this.byGroup.set(key.groupId, (offsets = new Map()));
    offsets.set(slot(key.topic, key.partition), {
      topic: key.topic,
      partition: key.partition,
      offset: value.offset,
      metadata: value.metadata,
      commitTimestampMs: value.commitTimestampMs,
    });
  }

  get(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.byGroup.get(groupId)?.get(slot(topic, partition));
  }

  all(groupId: string): StoredOffset[] {
    return [...(this.byGroup.get(groupId)?.values() ?? [])].sort(
      (a, b) => byCodeUnits(a.topic, b.topic) || a.partition - b.partition,
    );
  }

  groupIds(): string[] {
    return [...this.byGroup.keys()];
  }
}
