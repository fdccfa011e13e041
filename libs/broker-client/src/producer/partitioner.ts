import { partitionForKey } from '@hospital/proto';

/**
 * Kafka's default partitioner: a keyed record goes to murmur2(key) %
 * partitions (the broker computes the same); records without a key stick to
 * one partition per topic until a batch is sent, then move on.
 */
export class DefaultPartitioner {
  private readonly sticky = new Map<string, number>();

  partition(
    topic: string,
    key: Uint8Array | string | null | undefined,
    partitions: number,
  ): number {
    if (key !== null && key !== undefined) return partitionForKey(key, partitions);
    let chosen = this.sticky.get(topic);
    if (chosen === undefined || chosen >= partitions) {
      chosen = Math.floor(Math.random() * partitions);
      this.sticky.set(topic, chosen);
    }
    return chosen;
  }

  /** A batch for `topic` went out: unkeyed records move to the next partition. */
  batchSent(topic: string, partitions: number): void {
    const current = this.sticky.get(topic);
    if (current !== undefined) this.sticky.set(topic, (current + 1) % partitions);
  }
}
