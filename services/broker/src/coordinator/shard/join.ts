import {
  ErrorReason,
  GroupState,
  RebalanceTrigger,
  type JoinGroupRequest,
  type JoinGroupResponse,
} from '@hospital/proto';
import { validateGroupId } from '../state/group-id';
import { BrokerError, invalidField } from '../../errors/broker-error';
import type { GroupRecord } from '../records/group-records';
import { HeldResponse } from '../runtime/held-response';
import { ClassicGroup, type GroupView } from '../state/classic-group';
import { stateName } from '../state/group-state';
import type { MemberView, Protocol } from '../state/group-member';
import { CONSUMER_PROTOCOL, consumerEncoding } from '../state/consumer-protocol';
import { andThen, type CoordinatorResult, type Step } from './coordinator-result';
import type { HandlerContext } from './handler-context';
import { removeMember } from './membership';
import {
  afterMemberRemoved,
  currentJoinResponse,
  prepareRebalanceStep,
  tryCompleteJoin,
} from './rebalance';
import { addMemberAndRebalance, groupFull, issueMemberId, type Joining } from './new-member';
import { joinStaticWithoutId } from './static-join';

/**
 * JoinGroup. A new dynamic member gets MEMBER_ID_REQUIRED with an id first
 * (Kafka's two-step join); a known member rejoins; a static member without
 * an id takes its instance's place. The answer is held until the join phase
 * ends, unless the member can be answered at once.
 */
export function joinGroup(request: JoinGroupRequest, clientHost: string): Step {
  return (shard, context): CoordinatorResult<JoinGroupResponse> => {
    const joining = checkJoin(request, clientHost, context);
    const existing = shard.group(request.groupId);
    if (!existing && request.memberId) {
      throw new BrokerError(
        ErrorReason.UNKNOWN_MEMBER_ID,
        `group ${request.groupId} does not exist; join with an empty member id`,
      );
    }
    // A group that does not exist yet is read as a new, Empty one; the records create it.
    const group = existing ?? new ClassicGroup(request.groupId, context.nowMs);
    if (!group.acceptsProtocols(joining.spec.protocolType, joining.spec.protocols)) {
      throw new BrokerError(
        ErrorReason.INCONSISTENT_GROUP_PROTOCOL,
        `group ${group.groupId} uses protocol type "${group.protocolType}" with assignors [${group.candidateProtocols().join(', ')}]; this member offers "${joining.spec.protocolType}" [${joining.spec.protocols.map((protocol) => protocol.name).join(', ')}]`,
      );
    }
    const mixed = mixedEncoding(group, joining.spec.protocolType, joining.spec.protocols);
    if (mixed) throw new BrokerError(ErrorReason.INCONSISTENT_GROUP_PROTOCOL, mixed);
    if (!request.memberId) {
      if (joining.spec.groupInstanceId !== undefined)
        return joinStaticWithoutId(group, joining, context);
      return issueMemberId(group, joining, context);
    }
    if (group.pendingMembers.has(request.memberId)) {
      const spec = { ...joining.spec, memberId: request.memberId };
      return addMemberAndRebalance(
        group,
        spec,
        `${spec.clientId} joined${joining.reason ? ` (${joining.reason})` : ''}`,
        context,
      );
    }
    const member = group.requireMember(request.memberId, joining.spec.groupInstanceId);
    if (!group.acceptsJoiningMember(member.memberId, context.config.maxGroupSize))
      return turnAway(group, member, context.config.maxGroupSize);
    return rejoin(group, member, joining);
  };
}

/**
 * A known member over the limit (it was lowered since the member joined):
 * out of the group, as Kafka does, so the group can settle at its size.
 */
function turnAway(
  group: GroupView,
  member: MemberView,
  maxGroupSize: number,
): CoordinatorResult<JoinGroupResponse> {
  const reason = `the group is over its limit of ${maxGroupSize} members`;
  return {
    ...andThen(
      removeMember(group, member, ErrorReason.GROUP_MAX_SIZE_REACHED, reason),
      afterMemberRemoved(
        group.groupId,
        RebalanceTrigger.REBALANCE_TRIGGER_MEMBER_LEFT,
        `${member.clientId} turned away: ${reason}`,
      ),
    ),
    response: { error: groupFull(group, maxGroupSize) },
  };
}

function checkJoin(
  request: JoinGroupRequest,
  clientHost: string,
  context: HandlerContext,
): Joining {
  validateGroupId(request.groupId);
  const { minSessionTimeoutMs: min, maxSessionTimeoutMs: max } = context.config;
  if (request.sessionTimeoutMs < min || request.sessionTimeoutMs > max) {
    throw new BrokerError(
      ErrorReason.INVALID_SESSION_TIMEOUT,
      `session_timeout_ms must be between ${min} and ${max}, got ${request.sessionTimeoutMs}`,
      { field: 'session_timeout_ms' },
    );
  }
  if (request.rebalanceTimeoutMs < 0)
    throw invalidField('rebalance_timeout_ms', 'must not be negative');
  if (!request.protocolType || request.protocols.length === 0) {
    throw new BrokerError(
      ErrorReason.INCONSISTENT_GROUP_PROTOCOL,
      'protocol_type and at least one protocol are required',
    );
  }
  return {
    spec: {
      groupInstanceId: request.groupInstanceId,
      clientId: request.clientId,
      host: clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs || request.sessionTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols.map((protocol) => ({
        name: protocol.name,
        metadata: Buffer.from(protocol.metadata),
      })),
    },
    reason: request.reason,
  };
}

/** A known member's JoinGroup, by the group's state. */
function rejoin(
  group: GroupView,
  member: MemberView,
  joining: Joining,
): CoordinatorResult<JoinGroupResponse> {
  const unchanged = member.sameProtocols(joining.spec.protocols);
  const answerNow = (): CoordinatorResult<JoinGroupResponse> => ({
    records: [],
    response: { value: currentJoinResponse(group, member) },
  });
  const rebalance = (reason: string): CoordinatorResult<JoinGroupResponse> => ({
    ...holdJoin(group, member, joining),
    then: prepareRebalanceStep(
      group.groupId,
      RebalanceTrigger.REBALANCE_TRIGGER_METADATA_CHANGED,
      reason,
    ),
  });
  const changed = `${joining.spec.clientId} changed its subscription`;
  switch (group.state) {
    case GroupState.GROUP_STATE_PREPARING_REBALANCE:
      return { ...holdJoin(group, member, joining), then: tryCompleteJoin(group.groupId) };
    case GroupState.GROUP_STATE_COMPLETING_REBALANCE:
      return unchanged ? answerNow() : rebalance(changed);
    case GroupState.GROUP_STATE_STABLE: {
      // The leader's rejoin always rebalances: it wants to assign again.
      const isLeader = member.memberId === group.leaderId;
      if (!isLeader && unchanged) return answerNow();
      return rebalance(joining.reason || (isLeader ? 'the leader rejoined' : changed));
    }
    default:
      throw new BrokerError(
        ErrorReason.UNKNOWN_MEMBER_ID,
        `group ${group.groupId} is ${stateName(group.state)}`,
      );
  }
}

/** The member's new details, and its JoinGroup held (an older held JoinGroup of it is superseded). */
function holdJoin(
  group: GroupView,
  member: MemberView,
  joining: Joining,
): CoordinatorResult<JoinGroupResponse> {
  const held = new HeldResponse<JoinGroupResponse>();
  const { groupId } = group;
  const { memberId } = member;
  const records: GroupRecord[] = [
    {
      type: 'member-updated',
      groupId,
      // A rejoin may change the member's subscription and timeouts, not who it is.
      spec: {
        ...joining.spec,
        memberId,
        groupInstanceId: member.groupInstanceId,
        protocolType: member.protocolType,
      },
    },
  ];
  if (member.awaitingJoin) records.push(superseded(groupId, memberId));
  records.push({ type: 'join-held', groupId, memberId, held });
  return { records, response: { held } };
}

function superseded(groupId: string, memberId: string): GroupRecord {
  return {
    type: 'join-answered',
    groupId,
    memberId,
    answer: {
      error: new BrokerError(
        ErrorReason.REBALANCE_IN_PROGRESS,
        'superseded by a newer JoinGroup of the same member',
      ),
    },
  };
}

const ENCODING_NAMES = {
  kafka: "Kafka's consumer protocol (a Kafka client)",
  hospital: "the broker's own protobuf encoding (a hospital client)",
};

/**
 * A consumer group is all Kafka clients or all the broker's own clients: the
 * leader assigns from every member's subscription, and neither can read the
 * other's encoding. Says why when the joining member would mix them.
 */
function mixedEncoding(
  group: GroupView,
  protocolType: string,
  protocols: readonly Protocol[],
): string | undefined {
  if (protocolType !== CONSUMER_PROTOCOL || protocols.length === 0) return undefined;
  const joining = consumerEncoding(protocols[0].metadata);
  for (const member of group.members.values()) {
    const existing = member.protocols[0];
    if (!existing || consumerEncoding(existing.metadata) === joining) continue;
    return `group ${group.groupId} has members whose subscriptions are in ${ENCODING_NAMES[consumerEncoding(existing.metadata)]}; this member's are in ${ENCODING_NAMES[joining]}. A group's members must all be one kind: use another group id`;
  }
  return undefined;
}
