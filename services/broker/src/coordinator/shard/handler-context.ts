/** Limits the coordinator enforces, from the broker's configuration. */
export interface CoordinatorConfig {
  /** Wait this long after the first member joins an Empty group, so others can join the same generation. */
  initialRebalanceDelayMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  maxGroupSize: number;
  /** An Empty group idle (no commit, no member) this long is deleted. */
  offsetsRetentionMs: number;
}

/** The partitions a commit or an offset reset may name, as the storage layer knows them. */
export interface TopicPartitionsView {
  /** Throws UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist. */
  partitionCount(topic: string): number;
  logStartOffset(topic: string, partition: number): number;
  logEndOffset(topic: string, partition: number): number;
  /** The first offset whose timestamp is at or after `timestampMs`; undefined past the end. */
  offsetForTimestamp(topic: string, partition: number, timestampMs: number): number | undefined;
}

/**
 * What a handler may use besides the state: the time and new ids, injected
 * so that a test decides them, and read-only facts about topics.
 */
export interface HandlerContext {
  readonly nowMs: number;
  readonly config: CoordinatorConfig;
  /** A new unique id, such as a UUID, for member ids. */
  newId(): string;
  readonly topics: TopicPartitionsView;
}
