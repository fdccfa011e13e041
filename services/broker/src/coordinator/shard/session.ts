import { ErrorReason, GroupState, RebalanceTrigger, type HeartbeatRequest } from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';
import { andThen, NO_CHANGE, type CoordinatorResult, type Step } from './coordinator-result';
import { heartbeatRecord, removeMember, requireGroup } from './membership';
import { afterMemberRemoved } from './rebalance';

/** Heartbeat: keeps the member's session; during a rebalance it also says "rejoin". */
export function heartbeat(request: HeartbeatRequest): Step {
  return (shard, context): CoordinatorResult<void> => {
    const group = requireGroup(shard, request.groupId);
    const member = group.requireMember(request.memberId, request.groupInstanceId);
    group.requireGeneration(request.generationId);
    const records = [heartbeatRecord(group, member, context)];
    if (group.is(GroupState.GROUP_STATE_PREPARING_REBALANCE)) {
      return {
        records,
        response: {
          error: new BrokerError(
            ErrorReason.REBALANCE_IN_PROGRESS,
            `group ${group.groupId} is rebalancing; rejoin`,
          ),
        },
      };
    }
    return { records, response: { value: undefined } };
  };
}

/** No heartbeat within the session timeout: the member is removed and the rest rebalance. */
export function onSessionExpired(groupId: string, memberId: string): Step {
  return (shard, context) => {
    const group = shard.group(groupId);
    const member = group?.member(memberId);
    if (!group || !member) return NO_CHANGE;
    // A member waiting in JoinGroup is alive; its session restarts when the join completes.
    if (member.awaitingJoin) return { records: [{ type: 'session-extended', groupId, memberId }] };
    const silentMs = context.nowMs - member.lastHeartbeatMs;
    return andThen(
      removeMember(
        group,
        member,
        ErrorReason.UNKNOWN_MEMBER_ID,
        `no heartbeat for ${member.sessionTimeoutMs} ms`,
      ),
      afterMemberRemoved(
        groupId,
        RebalanceTrigger.REBALANCE_TRIGGER_SESSION_TIMEOUT,
        `${member.clientId} missed heartbeats for ${silentMs} ms`,
      ),
    );
  };
}

/** An id handed out with MEMBER_ID_REQUIRED that never came back is forgotten. */
export function onPendingMemberExpired(groupId: string, memberId: string): Step {
  return (shard) =>
    shard.group(groupId)?.pendingMembers.has(memberId)
      ? { records: [{ type: 'pending-member-removed', groupId, memberId }] }
      : NO_CHANGE;
}

/** The broker is stopping: every held JoinGroup and SyncGroup fails with COORDINATOR_NOT_AVAILABLE. */
export function failEveryHeldCall(): Step {
  return (shard) => {
    const error = new BrokerError(
      ErrorReason.COORDINATOR_NOT_AVAILABLE,
      'the broker is shutting down',
    );
    const records = [];
    for (const group of shard.groups()) {
      for (const member of group.members.values()) {
        const target = { groupId: group.groupId, memberId: member.memberId, answer: { error } };
        if (member.awaitingJoin) records.push({ type: 'join-answered' as const, ...target });
        if (member.awaitingSync) records.push({ type: 'sync-answered' as const, ...target });
      }
    }
    return { records };
  };
}
