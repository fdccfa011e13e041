import type { DescribeTopicResponse } from '@hospital/proto';

export interface TopicMetadata {
  partitions: number;
  /** The largest encoded batch the broker takes for this topic. */
  maxBatchBytes: number;
}

interface Entry {
  metadata: Promise<TopicMetadata>;
  /** The last value that arrived, served while a refresh is out. */
  current: TopicMetadata | undefined;
  fetchedAt: number;
  refreshing: boolean;
}

/**
 * What the producer knows of each topic, refreshed as Kafka's producer
 * does: older than `maxAgeMs` (metadata.max.age.ms), the next send starts a
 * refresh in the background and keeps using what it has; `invalidate()`
 * (after an error that means it is stale) makes the next send wait for a
 * fresh answer. A refresh that fails keeps the old value until the next age.
 */
export class TopicMetadataCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly describe: (topic: string) => Promise<DescribeTopicResponse>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(topic: string): Promise<TopicMetadata> {
    const entry = this.entries.get(topic);
    if (!entry) return this.fetch(topic);
    if (entry.current && !entry.refreshing && this.now() - entry.fetchedAt >= this.maxAgeMs) {
      entry.refreshing = true;
      entry.fetchedAt = this.now();
      this.describe(topic)
        .then((response) => metadataOf(topic, response))
        .then(
          (fresh) => {
            entry.refreshing = false;
            entry.current = fresh;
            entry.metadata = Promise.resolve(fresh);
          },
          // Kept: the old value serves until the next refresh succeeds.
          () => (entry.refreshing = false),
        );
    }
    return entry.metadata;
  }

  /** The value in hand, for code that runs after a send has awaited get(). */
  current(topic: string): TopicMetadata | undefined {
    return this.entries.get(topic)?.current;
  }

  invalidate(topic: string): void {
    this.entries.delete(topic);
  }

  /** The broker refused a batch as too large: believe it until the next refresh. */
  lowerBatchLimit(topic: string, maxBatchBytes: number): void {
    const entry = this.entries.get(topic);
    if (!entry?.current || entry.current.maxBatchBytes <= maxBatchBytes) return;
    entry.current = { ...entry.current, maxBatchBytes };
    entry.metadata = Promise.resolve(entry.current);
  }

  private fetch(topic: string): Promise<TopicMetadata> {
    const entry: Entry = {
      metadata: this.describe(topic).then((response) => {
        entry.current = metadataOf(topic, response);
        return entry.current;
      }),
      current: undefined,
      fetchedAt: this.now(),
      refreshing: false,
    };
    this.entries.set(topic, entry);
    entry.metadata.catch(() => {
      if (this.entries.get(topic) === entry) this.entries.delete(topic);
    });
    return entry.metadata;
  }
}

/** Brokers before max_batch_bytes was described took 1 MiB. */
const DEFAULT_MAX_BATCH_BYTES = 1024 * 1024;

function metadataOf(topic: string, response: DescribeTopicResponse): TopicMetadata {
  const partitions = response.topic?.partitions.length ?? 0;
  if (partitions === 0) throw new Error(`topic ${topic} has no partitions`);
  return {
    partitions,
    maxBatchBytes: response.topic?.maxBatchBytes || DEFAULT_MAX_BATCH_BYTES,
  };
}
