import {
  CleanupPolicy,
  type DescribeGroupResponse,
  type GroupDescription,
  type GroupHistoryResponse,
  type GroupListing,
  type GroupState,
  type OffsetChange,
  type TopicDescription,
  type TopicSummary,
} from '@hospital/proto';
import type { BrokerConnection } from '../connection/broker-connection';
import { withRetry, DEFAULT_RETRY, type RetryOptions } from '../retry';

export interface CreateTopicOptions {
  topic: string;
  partitions: number;
  retentionMs?: number;
  retentionBytes?: number;
  segmentBytes?: number;
  compacted?: boolean;
}

export type ResetTarget =
  | { earliest: true }
  | { latest: true }
  | { offset: number }
  | { timestampMs: number }
  | { shiftBy: number };

/** Every admin RPC of the broker, KafkaJS-admin style. Admin-only calls send the connection's admin token. */
export class Admin {
  constructor(
    private readonly connection: BrokerConnection,
    private readonly retry: RetryOptions = DEFAULT_RETRY,
  ) {}

  async createTopic(options: CreateTopicOptions): Promise<TopicDescription> {
    const response = await this.connection.call('createTopic', {
      name: options.topic,
      partitions: options.partitions,
      config: {
        retentionMs: options.retentionMs ?? 0,
        retentionBytes: options.retentionBytes ?? 0,
        segmentBytes: options.segmentBytes ?? 0,
        cleanupPolicy: options.compacted
          ? CleanupPolicy.CLEANUP_POLICY_COMPACT
          : CleanupPolicy.CLEANUP_POLICY_DELETE,
      },
    });
    return response.topic as TopicDescription;
  }

  async createPartitions(topic: string, totalPartitions: number): Promise<TopicDescription> {
    return (await this.connection.call('createPartitions', { name: topic, totalPartitions }))
      .topic as TopicDescription;
  }

  async deleteTopic(topic: string): Promise<void> {
    await this.connection.call('deleteTopic', { name: topic }, { admin: true });
  }

  async listTopics(includeInternal = false): Promise<TopicSummary[]> {
    return (
      await withRetry(() => this.connection.call('listTopics', { includeInternal }), this.retry)
    ).topics;
  }

  async describeTopic(topic: string): Promise<TopicDescription> {
    return (
      await withRetry(() => this.connection.call('describeTopic', { name: topic }), this.retry)
    ).topic as TopicDescription;
  }

  async listGroups(states: GroupState[] = []): Promise<GroupListing[]> {
    return (await withRetry(() => this.connection.call('listGroups', { states }), this.retry))
      .groups;
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    const response: DescribeGroupResponse = await withRetry(
      () => this.connection.call('describeGroup', { groupId }),
      this.retry,
    );
    return response.group as GroupDescription;
  }

  /** The group's recent rebalances, each with its protocol messages as the coordinator saw them. */
  async groupHistory(groupId: string): Promise<GroupHistoryResponse> {
    return withRetry(() => this.connection.call('groupHistory', { groupId }), this.retry);
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.connection.call('deleteGroup', { groupId }, { admin: true });
  }

  /** Committed offsets of a group: topic -> partition -> next offset (-1 when none). */
  async fetchOffsets(
    groupId: string,
    topic?: string,
  ): Promise<{ topic: string; partition: number; offset: number; metadata: string }[]> {
    const response = await withRetry(
      () =>
        this.connection.call('offsetFetch', {
          groupId,
          topics: topic ? [{ name: topic, partitions: [] }] : [],
        }),
      this.retry,
    );
    return response.topics.flatMap((entry) =>
      entry.partitions.map((partition) => ({
        topic: entry.name,
        partition: partition.partition,
        offset: partition.committedOffset,
        metadata: partition.metadata,
      })),
    );
  }

  /** kafka-consumer-groups --reset-offsets; the group must have no members. */
  async resetOffsets(
    groupId: string,
    topic: string,
    target: ResetTarget,
    options: { partitions?: number[]; dryRun?: boolean } = {},
  ): Promise<OffsetChange[]> {
    const [[$case, value]] = Object.entries(target) as [
      ['earliest' | 'latest' | 'offset' | 'timestampMs' | 'shiftBy', number | true],
    ];
    const response = await this.connection.call(
      'resetOffsets',
      {
        groupId,
        topic,
        partitions: options.partitions ?? [],
        target: { target: { $case, value } as never },
        dryRun: options.dryRun ?? false,
      },
      { admin: true },
    );
    return response.changes;
  }
}
