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
  if (group.members.size >= context.config.maxGroupSize) {
    throw new BrokerError(
      ErrorReason.GROUP_MAX_SIZE_REACHED,
      `group ${group.groupId} already has ${group.members.size} members`,
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
