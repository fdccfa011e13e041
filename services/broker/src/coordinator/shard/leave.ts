import { ErrorReason, RebalanceTrigger, type LeaveGroupRequest } from '@hospital/proto';
import { invalidField } from '../../errors/broker-error';
import type { MemberView } from '../state/group-member';
import { andThen, NO_CHANGE, type CoordinatorResult, type Step } from './coordinator-result';
import { removeMember, requireGroup } from './membership';
import { afterMemberRemoved } from './rebalance';

/** LeaveGroup: each named member is removed (a static member may be named by instance id alone). */
export function leaveGroup(request: LeaveGroupRequest): Step {
  return (shard): CoordinatorResult<void> => {
    const group = requireGroup(shard, request.groupId);
    if (request.members.length === 0) throw invalidField('members', 'name at least one member');
    // Every member is checked before anyone leaves: one unknown member fails the request.
    const leaving = request.members.map((identity) => {
      const memberId =
        identity.memberId ||
        (identity.groupInstanceId !== undefined
          ? (group.staticMembers.get(identity.groupInstanceId) ?? '')
          : '');
      return {
        member: group.requireMember(memberId, identity.groupInstanceId),
        reason: identity.reason,
      };
    });
    return {
      records: [],
      response: { value: undefined },
      then: leaveInTurn(group.groupId, leaving),
    };
  };
}

/** One member after another, each removal followed by what it means for the group. */
function leaveInTurn(groupId: string, leaving: { member: MemberView; reason: string }[]): Step {
  return (shard) => {
    const group = shard.group(groupId);
    const [first, ...rest] = leaving;
    if (!group || !first) return NO_CHANGE;
    const next = rest.length > 0 ? leaveInTurn(groupId, rest) : undefined;
    const member = group.member(first.member.memberId);
    if (!member) return next ? { records: [], then: next } : NO_CHANGE;
    const removed = andThen(
      removeMember(group, member, ErrorReason.UNKNOWN_MEMBER_ID, first.reason || 'left the group'),
      afterMemberRemoved(
        groupId,
        RebalanceTrigger.REBALANCE_TRIGGER_MEMBER_LEFT,
        `${member.clientId} left: ${first.reason || 'graceful shutdown'}`,
      ),
    );
    return next ? andThen(removed, next) : removed;
  };
}
