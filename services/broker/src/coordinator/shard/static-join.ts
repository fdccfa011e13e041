import { ErrorReason, GroupState, RebalanceTrigger, type JoinGroupResponse } from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';
import { HeldResponse } from '../runtime/held-response';
import { groupMetadataValue } from '../records/record-codec';
import type { GroupView } from '../state/classic-group';
import { sameSubscription } from '../state/consumer-protocol';
import { specOf, type MemberSpec } from '../state/group-member';
import { NO_CHANGE, type CoordinatorResult, type Step } from './coordinator-result';
import type { ShardView } from './group-shard';
import type { HandlerContext } from './handler-context';
import { addMemberAndRebalance, type Joining } from './new-member';
import { removedNotice } from './membership';
import { currentJoinResponse, prepareRebalanceStep } from './rebalance';

/**
 * A static member (group.instance.id) joining without a member id. The
 * first instance joins like a new member. A restarted instance takes its old
 * place: the same assignment, the lead if it led, and no rebalance when the
 * group is Stable and its subscription is unchanged; the old instance is
 * fenced (FENCED_INSTANCE_ID).
 */
export function joinStaticWithoutId(
  group: GroupView,
  joining: Joining,
  context: HandlerContext,
): CoordinatorResult<JoinGroupResponse> {
  const instanceId = joining.spec.groupInstanceId as string;
  const spec = { ...joining.spec, memberId: `${instanceId}-${context.newId()}` };
  const previousId = group.staticMembers.get(instanceId);
  const previous = previousId === undefined ? undefined : group.member(previousId);
  if (!previous)
    return addMemberAndRebalance(
      group,
      spec,
      joining.reason || `static member ${instanceId} joined`,
      context,
    );
  const { groupId } = group;
  const reason = `replaced by a new instance of ${instanceId}`;
  const held = new HeldResponse<JoinGroupResponse>();
  const replaced: CoordinatorResult<JoinGroupResponse> = {
    records: [
      {
        type: 'static-member-replaced',
        groupId,
        previousId: previous.memberId,
        spec,
        atMs: context.nowMs,
        failure: new BrokerError(
          ErrorReason.FENCED_INSTANCE_ID,
          `member ${previous.memberId} was removed from group ${groupId}: ${reason}`,
        ),
      },
      { type: 'join-held', groupId, memberId: spec.memberId, held },
    ],
    response: { held },
    notices: [removedNotice(group, previous.memberId, reason)],
  };
  if (
    group.is(GroupState.GROUP_STATE_STABLE) &&
    sameSubscription(group, previous.protocols, spec.protocols)
  ) {
    return {
      ...replaced,
      then: storeReplacement(groupId, group.generationId, spec.memberId, specOf(previous)),
    };
  }
  return {
    ...replaced,
    then: prepareRebalanceStep(
      groupId,
      RebalanceTrigger.REBALANCE_TRIGGER_STATIC_MEMBER_REPLACED,
      `static member ${instanceId} restarted`,
    ),
  };
}

/**
 * As Kafka does, the replacement in a Stable group is stored before the new
 * instance is answered, so a broker restart keeps it. If the write fails,
 * the old instance is put back as it was (id, assignment, lead) and the new
 * one's JoinGroup fails with the write's retriable error.
 */
function storeReplacement(
  groupId: string,
  generationId: number,
  memberId: string,
  previous: MemberSpec,
): Step {
  const current = (shard: ShardView) => {
    const group = shard.group(groupId);
    const member = group?.member(memberId);
    return group?.is(GroupState.GROUP_STATE_STABLE) &&
      group.generationId === generationId &&
      member?.awaitingJoin
      ? { group, member }
      : undefined;
  };
  return (shard, context) => {
    const now = current(shard);
    if (!now) return NO_CHANGE;
    return {
      records: [
        {
          type: 'group-metadata',
          groupId,
          value: groupMetadataValue(
            now.group,
            (id) => now.group.member(id)?.assignment ?? Buffer.alloc(0),
            context.nowMs,
          ),
        },
      ],
      then: (next) => {
        const stored = current(next);
        if (!stored) return NO_CHANGE;
        return {
          records: [
            {
              type: 'join-answered',
              groupId,
              memberId,
              answer: { value: currentJoinResponse(stored.group, stored.member) },
            },
          ],
        };
      },
      onWriteFailed: (error) => (next, later) =>
        current(next)
          ? {
              records: [
                {
                  type: 'static-member-replaced',
                  groupId,
                  previousId: memberId,
                  spec: previous,
                  atMs: later.nowMs,
                  failure: error,
                },
              ],
            }
          : NO_CHANGE,
    };
  };
}
