import {
  ErrorReason,
  GroupState,
  byCodeUnits,
  topicPartitionKey,
  type DescribeGroupResponse,
  type GroupDescription,
  type GroupHistoryResponse,
  type ListGroupsRequest,
  type ListGroupsResponse,
  type MemberDescription,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
  type PartitionLag,
} from '@hospital/proto';
import { BrokerError } from '../errors/broker-error';
import type { TopicStore } from '../storage/topic-store';
import type { ShardView } from './shard/group-shard';
import type { GroupView } from './state/classic-group';
import type { RebalanceTrace } from './trace/rebalance-trace';
import { decodeAssignment, decodeSubscription, subscribedTopics } from './state/consumer-protocol';

/** Read-only questions about groups and offsets: OffsetFetch, ListGroups, DescribeGroup, the dashboard. */
export class GroupQueries {
  constructor(
    private readonly shard: ShardView,
    private readonly store: TopicStore,
  ) {}

  fetch(request: OffsetFetchRequest): OffsetFetchResponse {
    const all = this.shard.offsets.all(request.groupId);
    const topics =
      request.topics.length > 0
        ? request.topics.map((topic) => ({
            name: topic.name,
            partitions:
              topic.partitions.length > 0
                ? topic.partitions
                : this.store.has(topic.name)
                  ? this.store.get(topic.name).partitions.map((_, index) => index)
                  : all
                      .filter((offset) => offset.topic === topic.name)
                      .map((offset) => offset.partition),
          }))
        : [...new Set(all.map((offset) => offset.topic))].map((name) => ({
            name,
            partitions: all
              .filter((offset) => offset.topic === name)
              .map((offset) => offset.partition),
          }));
    return {
      topics: topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition) => {
          const committed = this.shard.offsets.get(request.groupId, topic.name, partition);
          return {
            partition,
            committedOffset: committed?.offset ?? -1,
            metadata: committed?.metadata ?? '',
            commitTimestampMs: committed?.commitTimestampMs ?? 0,
          };
        }),
      })),
    };
  }

  listGroups(request: ListGroupsRequest): ListGroupsResponse {
    return {
      groups: [...this.shard.groups()]
        .filter((group) => request.states.length === 0 || request.states.includes(group.state))
        .sort((a, b) => byCodeUnits(a.groupId, b.groupId))
        .map((group) => ({
          groupId: group.groupId,
          protocolType: group.protocolType,
          state: group.state,
          members: group.members.size,
        })),
    };
  }

  describeGroup(groupId: string): DescribeGroupResponse {
    const group = this.shard.group(groupId);
    if (!group)
      throw new BrokerError(ErrorReason.GROUP_ID_NOT_FOUND, `group ${groupId} does not exist`, {
        group_id: groupId,
      });
    return { group: this.describe(group) };
  }

  /** The group's recent rebalances, each with the protocol messages that made it. */
  history(groupId: string, trace: RebalanceTrace): GroupHistoryResponse {
    const group = this.shard.group(groupId);
    if (!group)
      throw new BrokerError(ErrorReason.GROUP_ID_NOT_FOUND, `group ${groupId} does not exist`, {
        group_id: groupId,
      });
    return {
      sequences: trace.history(groupId),
      rebalances: group.history.map((record) => ({ ...record })),
    };
  }

  /** Every group, described, in group id order. */
  describeAll(): GroupDescription[] {
    return [...this.shard.groups()]
      .sort((a, b) => byCodeUnits(a.groupId, b.groupId))
      .map((group) => this.describe(group));
  }

  private describe(group: GroupView): GroupDescription {
    const owners = new Map<string, string>();
    const members: MemberDescription[] = [...group.members.values()].map((member) => {
      const assignment = decodeAssignment(group, member.assignment);
      for (const topic of assignment)
        for (const partition of topic.partitions)
          owners.set(topicPartitionKey(topic.topic, partition), member.memberId);
      return {
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        host: member.host,
        assignment,
        idle:
          group.is(GroupState.GROUP_STATE_STABLE) &&
          assignment.every((topic) => topic.partitions.length === 0),
        subscribedTopics: decodeSubscription(group, member.metadataFor(group.protocolName)),
        lastHeartbeatMs: member.lastHeartbeatMs,
        sessionTimeoutMs: member.sessionTimeoutMs,
      };
    });
    const topics = new Set([
      ...subscribedTopics(group),
      ...this.shard.offsets.all(group.groupId).map((offset) => offset.topic),
    ]);
    const offsets: PartitionLag[] = [];
    for (const topic of [...topics].sort()) {
      if (!this.store.has(topic)) continue;
      this.store.get(topic).partitions.forEach((log, partition) => {
        const committed = this.shard.offsets.get(group.groupId, topic, partition)?.offset ?? -1;
        const consumedFrom =
          committed >= 0 ? Math.max(committed, log.logStartOffset) : log.logStartOffset;
        offsets.push({
          topic,
          partition,
          committedOffset: committed,
          logEndOffset: log.logEndOffset,
          lag: Math.max(0, log.logEndOffset - consumedFrom),
          ownerMemberId: owners.get(topicPartitionKey(topic, partition)) ?? '',
        });
      });
    }
    return {
      groupId: group.groupId,
      state: group.state,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId,
      members,
      offsets,
      rebalances: group.history.map((record) => ({ ...record })),
    };
  }
}
