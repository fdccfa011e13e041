import { ErrorReason, MembershipEventType } from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';
import type { GroupRecord } from '../records/group-records';
import type { GroupView } from '../state/classic-group';
import type { MemberView } from '../state/group-member';
import type { CoordinatorResult } from './coordinator-result';
import type { HandlerContext } from './handler-context';
import type { ShardView } from './group-shard';

/** The group a member-level request names; a group that does not exist has no such member. */
export function requireGroup(shard: ShardView, groupId: string): GroupView {
  const group = shard.group(groupId);
  if (!group)
    throw new BrokerError(ErrorReason.UNKNOWN_MEMBER_ID, `group ${groupId} does not exist`);
  return group;
}

/** Takes a member out: its held calls fail with `failWith`, and its watch hears why and ends. */
export function removeMember(
  group: GroupView,
  member: MemberView,
  failWith: ErrorReason,
  reason: string,
): CoordinatorResult<never> {
  return {
    records: [
      {
        type: 'member-removed',
        groupId: group.groupId,
        memberId: member.memberId,
        failure: new BrokerError(
          failWith,
          `member ${member.memberId} was removed from group ${group.groupId}: ${reason}`,
        ),
      },
    ],
    notices: [removedNotice(group, member.memberId, reason)],
  };
}

export function removedNotice(group: GroupView, memberId: string, reason: string) {
  return {
    kind: 'member' as const,
    groupId: group.groupId,
    memberId,
    event: {
      type: MembershipEventType.MEMBERSHIP_EVENT_TYPE_MEMBER_REMOVED,
      generationId: group.generationId,
      reason,
    },
    final: true,
  };
}

/** A sign of life: the session starts again. */
export function heartbeatRecord(
  group: GroupView,
  member: MemberView,
  context: HandlerContext,
): GroupRecord {
  return {
    type: 'member-heartbeat',
    groupId: group.groupId,
    memberId: member.memberId,
    atMs: context.nowMs,
  };
}
