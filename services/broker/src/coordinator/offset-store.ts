import { byCodeUnits } from '@hospital/proto';
import type { internal } from '@hospital/proto';

export interface CommittedOffset {
  offset: number;
  metadata: string;
  commitTimestampMs: number;
}

const slot = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Committed offsets per group, changed only by replaying __consumer_offsets records. */
export class OffsetStore {
  private readonly byGroup = new Map<
    string,
    Map<string, CommittedOffset & { topic: string; partition: number }>
  >();

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
      ...value,
    });
  }

  get(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.byGroup.get(groupId)?.get(slot(topic, partition));
  }

  /** Every committed offset of a group, sorted by topic and partition. */
  all(groupId: string): (CommittedOffset & { topic: string; partition: number })[] {
    return [...(this.byGroup.get(groupId)?.values() ?? [])].sort(
      (a, b) => byCodeUnits(a.topic, b.topic) || a.partition - b.partition,
    );
  }

  groupIds(): string[] {
    return [...this.byGroup.keys()];
  }
}
