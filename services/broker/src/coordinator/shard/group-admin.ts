import {
  ErrorReason,
  GroupState,
  OPERATOR_RESET_METADATA,
  type ResetOffsetsRequest,
  type ResetOffsetsResponse,
} from '@hospital/proto';
import { validateGroupId } from '../state/group-id';
import { BrokerError, invalidField } from '../../errors/broker-error';
import type { GroupRecord } from '../records/group-records';
import { NO_CHANGE, type CoordinatorResult, type Step } from './coordinator-result';
import type { ShardView } from './group-shard';

/** DeleteGroup: only an Empty group; its offsets and metadata are tombstoned. */
export function deleteGroup(groupId: string): Step {
  return (shard): CoordinatorResult<void> => {
    const group = shard.group(groupId);
    if (!group)
      throw new BrokerError(ErrorReason.GROUP_ID_NOT_FOUND, `group ${groupId} does not exist`, {
        group_id: groupId,
      });
    if (group.members.size > 0) {
      throw new BrokerError(
        ErrorReason.NON_EMPTY_GROUP,
        `group ${groupId} still has ${group.members.size} members`,
      );
    }
    return { ...tombstones(shard, groupId), response: { value: undefined } };
  };
}

/**
 * Offsets retention (Kafka's offsets.retention.minutes, KIP-211): an Empty
 * group whose last commit, and the moment it emptied, are both older than
 * the retention is deleted with tombstones, as DeleteGroup does. A group
 * with members keeps its offsets however old they are.
 */
export function expireGroups(): Step {
  return (shard, context): CoordinatorResult<never> => {
    for (const group of shard.groups()) {
      if (!group.is(GroupState.GROUP_STATE_EMPTY)) continue;
      const lastCommitMs = Math.max(
        -1,
        ...shard.offsets.all(group.groupId).map((offset) => offset.commitTimestampMs),
      );
      const idleSinceMs = Math.max(lastCommitMs, group.stateSinceMs);
      // One group per step: a step's records go to its group's partition of __consumer_offsets.
      if (context.nowMs - idleSinceMs >= context.config.offsetsRetentionMs)
        return { ...tombstones(shard, group.groupId), then: expireGroups() };
    }
    return NO_CHANGE;
  };
}

/** A tombstone for every offset and for the group itself; watchers are let go. */
function tombstones(shard: ShardView, groupId: string): CoordinatorResult<never> {
  const records: GroupRecord[] = shard.offsets.all(groupId).map((offset) => ({
    type: 'offset-commit',
    groupId,
    topic: offset.topic,
    partition: offset.partition,
    value: undefined,
  }));
  records.push({ type: 'group-tombstone', groupId });
  return { records, notices: [{ kind: 'forget-group', groupId }] };
}

/** kafka-consumer-groups --reset-offsets: only for a group without members. */
export function resetOffsets(request: ResetOffsetsRequest): Step {
  return (shard, context): CoordinatorResult<ResetOffsetsResponse> => {
    validateGroupId(request.groupId);
    const group = shard.group(request.groupId);
    if (group && group.members.size > 0) {
      throw new BrokerError(
        ErrorReason.NON_EMPTY_GROUP,
        `group ${request.groupId} has ${group.members.size} active members (${GroupState[group.state]}); stop them before resetting offsets`,
      );
    }
    const { topics } = context;
    const topic = request.topic;
    const partitionCount = topics.partitionCount(topic);
    const target = request.target?.target;
    if (!target)
      throw invalidField('target', 'say earliest, latest, offset, timestamp_ms or shift_by');
    const partitions =
      request.partitions.length > 0
        ? request.partitions
        : Array.from({ length: partitionCount }, (_, index) => index);
    const changes = partitions.map((partition) => {
      const start = topics.logStartOffset(topic, partition);
      const end = topics.logEndOffset(topic, partition);
      const previous = shard.offsets.get(request.groupId, topic, partition)?.offset ?? -1;
      const clamp = (offset: number) => Math.min(Math.max(offset, start), end);
      let next: number;
      switch (target.$case) {
        case 'earliest':
          next = start;
          break;
        case 'latest':
          next = end;
          break;
        case 'offset':
          next = clamp(target.value);
          break;
        case 'timestampMs':
          next = topics.offsetForTimestamp(topic, partition, target.value) ?? end;
          break;
        case 'shiftBy':
          next = clamp((previous >= 0 ? previous : start) + target.value);
          break;
      }
      return { topic, partition, previousOffset: previous, newOffset: next };
    });
    const records: GroupRecord[] = request.dryRun
      ? []
      : changes.map((change) => ({
          type: 'offset-commit',
          groupId: request.groupId,
          topic: change.topic,
          partition: change.partition,
          value: {
            offset: change.newOffset,
            metadata: OPERATOR_RESET_METADATA,
            commitTimestampMs: context.nowMs,
          },
        }));
    return { records, response: { value: { changes } } };
  };
}
