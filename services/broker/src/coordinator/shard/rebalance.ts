import {
  ErrorReason,
  GroupState,
  MembershipEventType,
  RebalanceTrigger,
  type JoinGroupResponse,
} from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';
import type { GroupRecord } from '../records/group-records';
import { groupMetadataValue } from '../records/record-codec';
import type { GroupView } from '../state/classic-group';
import { subscribedTopics } from '../state/consumer-protocol';
import type { MemberView } from '../state/group-member';
import { combine, NO_CHANGE, type CoordinatorResult, type Step } from './coordinator-result';
import type { HandlerContext } from './handler-context';
import { removeMember } from './membership';

// The rebalance's phases, shared by every handler that starts or ends one:
// PreparingRebalance (members rejoin) -> CompletingRebalance (the leader
// assigns) -> Stable, or Empty when nobody is left.

/** Starts (or joins) a rebalance: every member must rejoin within the rebalance timeout. */
export function prepareRebalance(
  group: GroupView,
  trigger: RebalanceTrigger,
  reason: string,
  context: HandlerContext,
): CoordinatorResult<never> {
  const then = tryCompleteJoin(group.groupId);
  if (group.is(GroupState.GROUP_STATE_PREPARING_REBALANCE)) return { records: [], then };
  const records: GroupRecord[] = group.is(GroupState.GROUP_STATE_COMPLETING_REBALANCE)
    ? failHeldSyncs(
        group,
        new BrokerError(
          ErrorReason.REBALANCE_IN_PROGRESS,
          `group ${group.groupId} is rebalancing; rejoin`,
        ),
      )
    : [];
  records.push({
    type: 'rebalance-started',
    groupId: group.groupId,
    trigger,
    reason,
    atMs: context.nowMs,
    joinTimeoutMs: longestRebalanceTimeout(group, 0),
    initialDelayMs: group.is(GroupState.GROUP_STATE_EMPTY)
      ? context.config.initialRebalanceDelayMs
      : 0,
  });
  return {
    records,
    notices: [
      {
        kind: 'group',
        groupId: group.groupId,
        event: {
          type: MembershipEventType.MEMBERSHIP_EVENT_TYPE_REBALANCE_STARTED,
          generationId: group.generationId,
          reason,
        },
      },
    ],
    then,
  };
}

/** `prepareRebalance` over the state as it is when the step runs. */
export function prepareRebalanceStep(
  groupId: string,
  trigger: RebalanceTrigger,
  reason: string,
): Step {
  return (shard, context) => {
    const group = shard.group(groupId);
    return group ? prepareRebalance(group, trigger, reason, context) : NO_CHANGE;
  };
}

/** Ends the join phase once every member has rejoined, unless the initial delay still runs. */
export function tryCompleteJoin(groupId: string): Step {
  return (shard, context) => {
    const group = shard.group(groupId);
    if (!group?.is(GroupState.GROUP_STATE_PREPARING_REBALANCE) || group.initialDelayPending)
      return NO_CHANGE;
    return group.allMembersRejoined() ? completeJoin(group, context) : NO_CHANGE;
  };
}

/** The initial delay is over: the join phase may end. */
export function onInitialDelayEnded(groupId: string): Step {
  return (shard) =>
    shard.group(groupId)?.is(GroupState.GROUP_STATE_PREPARING_REBALANCE)
      ? { records: [{ type: 'initial-delay-ended', groupId }], then: tryCompleteJoin(groupId) }
      : NO_CHANGE;
}

/** Members that did not rejoin within the rebalance timeout are dropped; the rest move on. */
export function onJoinTimeout(groupId: string): Step {
  return (shard) => {
    const group = shard.group(groupId);
    if (!group?.is(GroupState.GROUP_STATE_PREPARING_REBALANCE)) return NO_CHANGE;
    const removals = [...group.members.values()]
      .filter((member) => !member.awaitingJoin)
      .map((member) =>
        removeMember(
          group,
          member,
          ErrorReason.UNKNOWN_MEMBER_ID,
          'did not rejoin within the rebalance timeout',
        ),
      );
    return {
      ...combine<never>({ records: [{ type: 'initial-delay-ended', groupId }] }, ...removals),
      then: (next, context) => {
        const remaining = next.group(groupId);
        return remaining ? completeJoin(remaining, context) : NO_CHANGE;
      },
    };
  };
}

/** Ends the join phase: the next generation, protocol by vote, leader, answers to every held JoinGroup. */
function completeJoin(group: GroupView, context: HandlerContext): CoordinatorResult<never> {
  const generationId = group.generationId + 1;
  if (group.members.size === 0) {
    return {
      records: [
        {
          type: 'join-completed',
          groupId: group.groupId,
          generationId,
          protocolName: '',
          leaderId: '',
          atMs: context.nowMs,
          syncTimeoutMs: 0,
        },
      ],
      then: storeEmptyGroup(group.groupId, generationId),
    };
  }
  const protocolName = group.selectProtocol();
  const leaderId = group.member(group.leaderId)
    ? group.leaderId
    : (group.members.keys().next().value as string);
  const records: GroupRecord[] = [
    {
      type: 'join-completed',
      groupId: group.groupId,
      generationId,
      protocolName,
      leaderId,
      atMs: context.nowMs,
      syncTimeoutMs: longestRebalanceTimeout(group, -Infinity),
    },
  ];
  for (const member of group.members.values()) {
    if (!member.awaitingJoin) continue;
    records.push({
      type: 'join-answered',
      groupId: group.groupId,
      memberId: member.memberId,
      answer: { value: joinResponse(group, member, { generationId, protocolName, leaderId }) },
    });
  }
  return { records };
}

/** An Empty group's metadata is stored (Kafka does so too) so a restart knows its generation. */
function storeEmptyGroup(groupId: string, generationId: number): Step {
  return (shard, context) => {
    const group = shard.group(groupId);
    if (!group?.is(GroupState.GROUP_STATE_EMPTY) || group.generationId !== generationId)
      return NO_CHANGE;
    return {
      records: [
        {
          type: 'group-metadata',
          groupId,
          value: groupMetadataValue(group, () => Buffer.alloc(0), context.nowMs),
        },
      ],
    };
  };
}

/** After a member was removed: a settled group rebalances; a rebalancing one may now complete. */
export function afterMemberRemoved(
  groupId: string,
  trigger: RebalanceTrigger,
  reason: string,
): Step {
  const rebalance = prepareRebalanceStep(groupId, trigger, reason);
  const complete = tryCompleteJoin(groupId);
  return (shard, context) => {
    const group = shard.group(groupId);
    if (!group) return NO_CHANGE;
    if (isSettling(group)) return rebalance(shard, context);
    return group.is(GroupState.GROUP_STATE_PREPARING_REBALANCE)
      ? complete(shard, context)
      : NO_CHANGE;
  };
}

/** A subscribed topic grew: a settled group consuming it rebalances so the new partitions get owners. */
export function onPartitionsAdded(groupId: string, topic: string, partitions: number): Step {
  return (shard, context) => {
    const group = shard.group(groupId);
    if (!group || !isSettling(group) || !subscribedTopics(group).has(topic)) return NO_CHANGE;
    return prepareRebalance(
      group,
      RebalanceTrigger.REBALANCE_TRIGGER_PARTITIONS_ADDED,
      `topic ${topic} now has ${partitions} partitions`,
      context,
    );
  };
}

/** Stable, or about to be: a change of membership or topics starts a new rebalance. */
function isSettling(group: GroupView): boolean {
  return (
    group.is(GroupState.GROUP_STATE_STABLE) || group.is(GroupState.GROUP_STATE_COMPLETING_REBALANCE)
  );
}

/** Every held SyncGroup of the group fails with `error`. */
export function failHeldSyncs(group: GroupView, error: BrokerError): GroupRecord[] {
  return [...group.members.values()]
    .filter((member) => member.awaitingSync)
    .map((member) => ({
      type: 'sync-answered' as const,
      groupId: group.groupId,
      memberId: member.memberId,
      answer: { error },
    }));
}

/** The JoinGroup answer of the current generation. */
export function currentJoinResponse(group: GroupView, member: MemberView): JoinGroupResponse {
  return joinResponse(group, member, group);
}

function joinResponse(
  group: GroupView,
  member: MemberView,
  generation: { generationId: number; protocolName: string; leaderId: string },
): JoinGroupResponse {
  const isLeader = member.memberId === generation.leaderId;
  return {
    generationId: generation.generationId,
    protocolType: group.protocolType,
    protocolName: generation.protocolName,
    leader: generation.leaderId,
    memberId: member.memberId,
    // Only the leader learns every member and its subscription.
    members: isLeader
      ? [...group.members.values()].map((other) => ({
          memberId: other.memberId,
          groupInstanceId: other.groupInstanceId,
          metadata: other.metadataFor(generation.protocolName),
          clientId: other.clientId,
          host: other.host,
        }))
      : [],
  };
}

function longestRebalanceTimeout(group: GroupView, floor: number): number {
  return Math.max(floor, ...[...group.members.values()].map((member) => member.rebalanceTimeoutMs));
}
