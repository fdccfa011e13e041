import {
  ErrorReason,
  GroupState,
  RebalanceTrigger,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';
import type { GroupRecord } from '../records/group-records';
import { groupMetadataValue } from '../records/record-codec';
import { HeldResponse } from '../runtime/held-response';
import type { GroupView } from '../state/classic-group';
import { stateName } from '../state/group-state';
import type { MemberView } from '../state/group-member';
import { combine, NO_CHANGE, type CoordinatorResult, type Step } from './coordinator-result';
import { heartbeatRecord, removeMember, requireGroup } from './membership';
import { failHeldSyncs, prepareRebalance } from './rebalance';

/**
 * SyncGroup. In CompletingRebalance every member's answer is held; the
 * leader's request carries the assignment, which is stored in
 * __consumer_offsets first. Only once it is durable does the group become
 * Stable and every held SyncGroup get its member's share.
 */
export function syncGroup(request: SyncGroupRequest): Step {
  return (shard, context): CoordinatorResult<SyncGroupResponse> => {
    const group = requireGroup(shard, request.groupId);
    const member = group.requireMember(request.memberId, request.groupInstanceId);
    group.requireGeneration(request.generationId);
    if (
      (request.protocolType && request.protocolType !== group.protocolType) ||
      (request.protocolName && request.protocolName !== group.protocolName)
    ) {
      throw new BrokerError(
        ErrorReason.INCONSISTENT_GROUP_PROTOCOL,
        `group ${group.groupId} uses ${group.protocolType}/${group.protocolName}`,
      );
    }
    switch (group.state) {
      case GroupState.GROUP_STATE_PREPARING_REBALANCE:
        throw new BrokerError(
          ErrorReason.REBALANCE_IN_PROGRESS,
          `group ${group.groupId} is rebalancing; rejoin`,
        );
      case GroupState.GROUP_STATE_STABLE:
        return {
          records: [heartbeatRecord(group, member, context)],
          response: { value: syncResponse(group, member) },
        };
      case GroupState.GROUP_STATE_COMPLETING_REBALANCE: {
        const held = new HeldResponse<SyncGroupResponse>();
        const records: GroupRecord[] = [];
        if (member.awaitingSync) records.push(superseded(group, member));
        records.push({
          type: 'sync-held',
          groupId: group.groupId,
          memberId: member.memberId,
          held,
        });
        const isLeader = member.memberId === group.leaderId;
        const assignments = new Map(
          request.assignments.map((given) => [given.memberId, Buffer.from(given.assignment)]),
        );
        return {
          records,
          response: { held },
          ...(isLeader
            ? { then: storeAssignment(group.groupId, group.generationId, assignments) }
            : {}),
        };
      }
      default:
        throw new BrokerError(
          ErrorReason.UNKNOWN_MEMBER_ID,
          `group ${group.groupId} is ${stateName(group.state)}`,
        );
    }
  };
}

/**
 * The leader's assignment, as the group's metadata record. If a rebalance
 * starts while it is being written, that rebalance fails the held SyncGroups,
 * and the record, once durable, changes nothing (see the shard's replay).
 */
function storeAssignment(
  groupId: string,
  generationId: number,
  assignments: ReadonlyMap<string, Buffer>,
): Step {
  return (shard, context) => {
    const group = shard.group(groupId);
    if (!isCompleting(group, generationId)) return NO_CHANGE;
    return {
      records: [
        {
          type: 'group-metadata',
          groupId,
          value: groupMetadataValue(
            group,
            (memberId) => assignments.get(memberId) ?? Buffer.alloc(0),
            context.nowMs,
          ),
        },
      ],
      then: answerSyncs(groupId, generationId),
      // The group stays as it was, completing this generation; each member
      // gets a retriable error, rejoins and is answered at once, and the
      // leader sends its assignment again.
      onWriteFailed: (error) => (next) => {
        const still = next.group(groupId);
        return isCompleting(still, generationId)
          ? { records: failHeldSyncs(still, error) }
          : NO_CHANGE;
      },
    };
  };
}

/** The group is Stable: every held SyncGroup gets its member's share. */
function answerSyncs(groupId: string, generationId: number): Step {
  return (shard) => {
    const group = shard.group(groupId);
    if (!group?.is(GroupState.GROUP_STATE_STABLE) || group.generationId !== generationId)
      return NO_CHANGE;
    return {
      records: [...group.members.values()]
        .filter((member) => member.awaitingSync)
        .map((member) => ({
          type: 'sync-answered' as const,
          groupId,
          memberId: member.memberId,
          answer: { value: syncResponse(group, member) },
        })),
    };
  };
}

/** Members that never sent SyncGroup are dropped and the group rebalances without them. */
export function onSyncTimeout(groupId: string, generationId: number): Step {
  return (shard) => {
    const group = shard.group(groupId);
    if (!isCompleting(group, generationId)) return NO_CHANGE;
    const removals = [...group.pendingSync].flatMap((memberId) => {
      const member = group.member(memberId);
      return member
        ? [
            removeMember(
              group,
              member,
              ErrorReason.UNKNOWN_MEMBER_ID,
              'did not SyncGroup within the rebalance timeout',
            ),
          ]
        : [];
    });
    return {
      ...combine<never>(...removals),
      then: (next, context) => {
        const remaining = next.group(groupId);
        return remaining
          ? prepareRebalance(
              remaining,
              RebalanceTrigger.REBALANCE_TRIGGER_REJOIN_TIMEOUT,
              'members did not sync within the rebalance timeout',
              context,
            )
          : NO_CHANGE;
      },
    };
  };
}

function isCompleting(group: GroupView | undefined, generationId: number): group is GroupView {
  return (
    group !== undefined &&
    group.is(GroupState.GROUP_STATE_COMPLETING_REBALANCE) &&
    group.generationId === generationId
  );
}

function syncResponse(group: GroupView, member: MemberView): SyncGroupResponse {
  return {
    protocolType: group.protocolType,
    protocolName: group.protocolName,
    assignment: member.assignment,
  };
}

function superseded(group: GroupView, member: MemberView): GroupRecord {
  return {
    type: 'sync-answered',
    groupId: group.groupId,
    memberId: member.memberId,
    answer: {
      error: new BrokerError(
        ErrorReason.REBALANCE_IN_PROGRESS,
        'superseded by a newer SyncGroup of the same member',
      ),
    },
  };
}
