import { ErrorReason, RebalanceTrigger, type JoinGroupResponse } from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';
import { HeldResponse } from '../runtime/held-response';
import type { GroupView } from '../state/classic-group';
import type { MemberSpec } from '../state/group-member';
import type { CoordinatorResult } from './coordinator-result';
import type { HandlerContext } from './handler-context';
import { prepareRebalanceStep } from './rebalance';

/** A JoinGroup, checked and normalised: what the member says about itself, and why it joins. */
export interface Joining {
  spec: Omit<MemberSpec, 'memberId'>;
  reason: string;
}

/** Kafka's two-step join: hand out an id, expect the member back with it within its session timeout. */
export function issueMemberId(
  group: GroupView,
  joining: Joining,
  context: HandlerContext,
): CoordinatorResult<JoinGroupResponse> {
  // Ids handed out count against the limit too, so a flood of first steps cannot grow the pending set unbounded.
  const { maxGroupSize } = context.config;
  if (group.members.size + group.pendingMembers.size >= maxGroupSize) {
    throw new BrokerError(
      ErrorReason.GROUP_MAX_SIZE_REACHED,
      `group ${group.groupId} already has ${group.members.size} members and ${group.pendingMembers.size} joining, the most it may have is ${maxGroupSize}`,
      { max_group_size: String(maxGroupSize) },
    );
  }
  const memberId = `${joining.spec.clientId || 'member'}-${context.newId()}`;
  return {
    records: [
      {
        type: 'member-id-issued',
        groupId: group.groupId,
        memberId,
        expiresInMs: joining.spec.sessionTimeoutMs,
        atMs: context.nowMs,
      },
    ],
    response: {
      error: new BrokerError(
        ErrorReason.MEMBER_ID_REQUIRED,
        `group ${group.groupId}: rejoin with the member id ${memberId}`,
        { member_id: memberId },
      ),
    },
  };
}

/** A new member joins, its JoinGroup is held, and the group rebalances. */
export function addMemberAndRebalance(
  group: GroupView,
  spec: MemberSpec,
  reason: string,
  context: HandlerContext,
): CoordinatorResult<JoinGroupResponse> {
  // Checked again at this step: joins that each passed the first step must not overshoot together.
  const { maxGroupSize } = context.config;
  if (!group.acceptsJoiningMember(spec.memberId, maxGroupSize)) {
    return {
      records: group.pendingMembers.has(spec.memberId)
        ? [{ type: 'pending-member-removed', groupId: group.groupId, memberId: spec.memberId }]
        : [],
      response: { error: groupFull(group, maxGroupSize) },
    };
  }
  const held = new HeldResponse<JoinGroupResponse>();
  return {
    records: [
      { type: 'member-added', groupId: group.groupId, spec, atMs: context.nowMs },
      { type: 'join-held', groupId: group.groupId, memberId: spec.memberId, held },
    ],
    response: { held },
    then: prepareRebalanceStep(
      group.groupId,
      RebalanceTrigger.REBALANCE_TRIGGER_MEMBER_JOINED,
      reason,
    ),
  };
}

export function groupFull(group: GroupView, maxGroupSize: number): BrokerError {
  return new BrokerError(
    ErrorReason.GROUP_MAX_SIZE_REACHED,
    `group ${group.groupId} is full: it may have at most ${maxGroupSize} members`,
    { max_group_size: String(maxGroupSize) },
  );
}
