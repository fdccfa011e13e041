import {
  ErrorReason,
  GroupState,
  OPERATOR_RESET_METADATA,
  type ResetOffsetsRequest,
  type ResetOffsetsResponse,
} from '@hospital/proto';
import { BrokerError, invalidField } from '../../errors/broker-error';
import type { GroupRecord } from '../records/group-records';
import type { CoordinatorResult, Step } from './coordinator-result';

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
    const records: GroupRecord[] = shard.offsets.all(groupId).map((offset) => ({
      type: 'offset-commit',
      groupId,
      topic: offset.topic,
      partition: offset.partition,
      value: undefined,
    }));
    records.push({ type: 'group-tombstone', groupId });
    return {
      records,
      response: { value: undefined },
      notices: [{ kind: 'forget-group', groupId }],
    };
  };
}

/** kafka-consumer-groups --reset-offsets: only for a group without members. */
export function resetOffsets(request: ResetOffsetsRequest): Step {
  return (shard, context): CoordinatorResult<ResetOffsetsResponse> => {
    if (!request.groupId)
      throw new BrokerError(ErrorReason.INVALID_GROUP_ID, 'group_id must not be empty', {
        field: 'group_id',
      });
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
