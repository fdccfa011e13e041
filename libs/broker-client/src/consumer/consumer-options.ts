import type { IncomingRecord } from '@hospital/proto';
import type { RetryOptions } from '../retry';
import type { Assignor } from './assignors';
import type { TopicPartition } from './topic-partition';

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
