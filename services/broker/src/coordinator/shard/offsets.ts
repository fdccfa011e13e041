import { ErrorReason, GroupState, type OffsetCommitRequest } from '@hospital/proto';
import { validateGroupId } from '../state/group-id';
import { BrokerError, invalidField } from '../../errors/broker-error';
import type { GroupRecord } from '../records/group-records';
import type { CoordinatorResult, Step } from './coordinator-result';
import type { HandlerContext } from './handler-context';
import { heartbeatRecord } from './membership';
import type { ShardView } from './group-shard';

const MAX_METADATA_CHARS = 4096;

/**
 * OffsetCommit: the offsets as records, acknowledged once durable. Fenced as
 * Kafka's classic coordinator fences commits (see `fence`); an accepted
 * commit from a member also counts as its heartbeat.
 */
export function commitOffsets(request: OffsetCommitRequest): Step {
  return (shard, context): CoordinatorResult<void> => {
    validateGroupId(request.groupId);
    const records: GroupRecord[] = [];
    for (const [topicIndex, topic] of request.topics.entries()) {
      const partitions = context.topics.partitionCount(topic.name);
      for (const [index, partition] of topic.partitions.entries()) {
        const field = `topics[${topicIndex}].partitions[${index}]`;
        if (partition.partition < 0 || partition.partition >= partitions) {
          throw new BrokerError(
            ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
            `${field}: topic ${topic.name} has no partition ${partition.partition}`,
          );
        }
        if (partition.committedOffset < 0)
          throw new BrokerError(
            ErrorReason.INVALID_COMMIT_OFFSET_SIZE,
            `${field}: committed_offset must not be negative`,
          );
        if (partition.metadata.length > MAX_METADATA_CHARS) {
          throw new BrokerError(
            ErrorReason.OFFSET_METADATA_TOO_LARGE,
            `${field}: metadata is longer than ${MAX_METADATA_CHARS} characters`,
          );
        }
        records.push({
          type: 'offset-commit',
          groupId: request.groupId,
          topic: topic.name,
          partition: partition.partition,
          value: {
            offset: partition.committedOffset,
            metadata: partition.metadata,
            commitTimestampMs: context.nowMs,
          },
        });
      }
    }
    if (records.length === 0) throw invalidField('topics', 'name at least one partition to commit');
    return {
      records: [...fence(shard, request, context), ...records],
      response: { value: undefined },
    };
  };
}

/**
 * Whether a commit may be stored, as Kafka's classic coordinator decides:
 * generation -1 from no member commits for a group without members; a
 * group completing a rebalance answers REBALANCE_IN_PROGRESS; otherwise the
 * caller must be a current member (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID) of
 * the current generation (ILLEGAL_GENERATION). Commits during
 * PreparingRebalance are accepted so members can commit before rejoining.
 * Returns the heartbeat an accepted member's commit counts as.
 */
function fence(
  shard: ShardView,
  request: OffsetCommitRequest,
  context: HandlerContext,
): GroupRecord[] {
  const { groupId, memberId, generationId } = request;
  const group = shard.group(groupId);
  if (!group) {
    if (generationId >= 0 || memberId) {
      throw new BrokerError(
        ErrorReason.UNKNOWN_MEMBER_ID,
        `group ${groupId} has no members; commit with generation -1 and no member id`,
      );
    }
    return [];
  }
  if (generationId < 0 && !memberId && group.is(GroupState.GROUP_STATE_EMPTY)) return [];
  if (group.is(GroupState.GROUP_STATE_COMPLETING_REBALANCE)) {
    throw new BrokerError(
      ErrorReason.REBALANCE_IN_PROGRESS,
      `group ${groupId} is completing a rebalance; rejoin before committing`,
    );
  }
  const member = group.requireMember(memberId, request.groupInstanceId);
  group.requireGeneration(generationId);
  return [heartbeatRecord(group, member, context)];
}
