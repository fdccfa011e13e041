import {
  ProtocolMessageKind,
  reasonName,
  topicPartitionKey,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type MemberShare,
  type ProtocolMessage,
  type RebalanceSequence,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';
import {
  assignmentPartitions,
  CONSUMER_PROTOCOL,
  subscriptionTopics,
} from '../state/consumer-protocol';

/** Bounds: what the trace keeps, and what it drops first when full. */
export interface TraceLimits {
  /** Most recent generations kept per group; the oldest goes first. */
  sequencesPerGroup: number;
  /** Messages kept per generation; later ones are counted in `dropped`. */
  messagesPerSequence: number;
  /** Groups traced at once; the one touched longest ago is forgotten first. */
  groups: number;
  /** Client ids waiting for their first fetch; the oldest is given up first. */
  awaitingFetch: number;
}

export const DEFAULT_TRACE_LIMITS: TraceLimits = {
  sequencesPerGroup: 20,
  messagesPerSequence: 600,
  groups: 1_000,
  awaitingFetch: 10_000,
};

interface GroupTrace {
  /** Messages of the join phase now running: they belong to the generation its answers name. */
  pending: ProtocolMessage[];
  pendingDropped: number;
  sequences: RebalanceSequence[];
  /** Member id → client id, to name members in the leader's assignment. */
  clients: Map<string, string>;
}

/** A member that was just given partitions and has not fetched any of them yet. */
interface AwaitingFetch {
  groupId: string;
  generationId: number;
  memberId: string;
  partitions: Set<string>;
}

/** The Kafka error name ("MEMBER_ID_REQUIRED"); the message for anything else. */
const describeError = (error: unknown) =>
  error instanceof BrokerError
    ? reasonName(error.reason)
    : error instanceof Error
      ? error.message
      : String(error);

/**
 * The protocol messages of every rebalance, per generation, as the
 * coordinator saw them: JoinGroups arriving, their answers (the leader's
 * with the member list), the leader's SyncGroup with every assignment, each
 * member's SyncGroup answer with its share, and each member's first fetch
 * after it. It is observation only: the group's state never reads it. Every
 * method takes the time, so it is tested without a clock.
 */
export class RebalanceTrace {
  private readonly groups = new Map<string, GroupTrace>();
  /** client id → the members with that client id waiting for their first fetch. */
  private readonly awaitingFetch = new Map<string, AwaitingFetch[]>();

  constructor(private readonly limits: TraceLimits = DEFAULT_TRACE_LIMITS) {}

  joinRequested(request: JoinGroupRequest, nowMs: number): void {
    const trace = this.trace(request.groupId);
    if (request.memberId) this.remember(trace, request.memberId, request.clientId);
    const protocols = request.protocols.map((protocol) => protocol.name).join(', ');
    const topics =
      request.protocolType === CONSUMER_PROTOCOL
        ? subscriptionTopics(request.protocols[0]?.metadata)
        : [];
    this.addPending(trace, {
      ...message(ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_JOIN_REQUEST, nowMs),
      memberId: request.memberId,
      clientId: request.clientId,
      summary:
        `JoinGroup${request.memberId ? '' : ' (no member id yet)'}: protocols ${protocols || 'none'}` +
        (topics.length ? `, topics ${topics.join(', ')}` : '') +
        (request.groupInstanceId ? `, instance ${request.groupInstanceId}` : '') +
        (request.reason ? ` — ${request.reason}` : ''),
    });
  }

  joinFailed(request: JoinGroupRequest, error: unknown, nowMs: number): void {
    this.addPending(this.trace(request.groupId), {
      ...message(ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_JOIN_RESPONSE, nowMs),
      memberId: request.memberId,
      clientId: request.clientId,
      summary: 'JoinGroup answered with an error',
      error: describeError(error),
    });
  }

  /** A JoinGroup answer: the join phase of its generation is over, so the pending messages belong to it. */
  joinAnswered(
    groupId: string,
    clientId: string,
    response: JoinGroupResponse,
    nowMs: number,
  ): void {
    const trace = this.trace(groupId);
    this.remember(trace, response.memberId, clientId);
    for (const member of response.members) this.remember(trace, member.memberId, member.clientId);
    const sequence = this.sequence(trace, response.generationId, nowMs);
    // What arrived before this answer made it (a static member's rejoin joins its current generation).
    for (const pending of trace.pending.splice(0)) this.add(sequence, pending);
    sequence.dropped += trace.pendingDropped;
    trace.pendingDropped = 0;
    sequence.leader = response.leader;
    sequence.protocolName = response.protocolName;
    const leader = response.memberId === response.leader;
    this.add(sequence, {
      ...message(ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_JOIN_RESPONSE, nowMs),
      memberId: response.memberId,
      clientId,
      summary: leader
        ? `JoinGroup answer: generation ${response.generationId}, protocol ${response.protocolName}, you lead: the ${response.members.length} members and their subscriptions`
        : `JoinGroup answer: generation ${response.generationId}, protocol ${response.protocolName}, leader ${trace.clients.get(response.leader) ?? response.leader}`,
      members: response.members.map((member) => member.memberId),
    });
  }

  syncRequested(request: SyncGroupRequest, nowMs: number): void {
    const trace = this.trace(request.groupId);
    const consumer = request.protocolType === CONSUMER_PROTOCOL || request.protocolType === '';
    const shares: MemberShare[] = request.assignments.map((assignment) => ({
      memberId: assignment.memberId,
      clientId: trace.clients.get(assignment.memberId) ?? '',
      partitions: consumer ? assignmentPartitions(assignment.assignment) : [],
    }));
    const sequence = this.sequence(trace, request.generationId, nowMs);
    this.add(sequence, {
      ...message(ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_SYNC_REQUEST, nowMs),
      memberId: request.memberId,
      clientId: trace.clients.get(request.memberId) ?? '',
      summary:
        shares.length > 0
          ? `SyncGroup from the leader: the assignment of all ${shares.length} members`
          : 'SyncGroup: waiting for its share',
      shares,
    });
  }

  syncAnswered(
    request: SyncGroupRequest,
    response: SyncGroupResponse | undefined,
    error: unknown,
    nowMs: number,
  ): void {
    const trace = this.trace(request.groupId);
    const clientId = trace.clients.get(request.memberId) ?? '';
    const partitions = response ? assignmentPartitions(response.assignment) : [];
    const owned = partitions.flatMap((topic) =>
      topic.partitions.map((partition) => topicPartitionKey(topic.topic, partition)),
    );
    this.add(this.sequence(trace, request.generationId, nowMs), {
      ...message(ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_SYNC_RESPONSE, nowMs),
      memberId: request.memberId,
      clientId,
      summary: response
        ? `SyncGroup answer: its own share only, ${owned.length} partition(s)`
        : 'SyncGroup answered with an error',
      shares: response ? [{ memberId: request.memberId, clientId, partitions }] : [],
      error: response ? '' : describeError(error),
    });
    const waiting = (this.awaitingFetch.get(clientId) ?? []).filter(
      (entry) => !(entry.groupId === request.groupId && entry.memberId === request.memberId),
    );
    if (owned.length > 0 && clientId)
      waiting.push({
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        partitions: new Set(owned),
      });
    this.awaitingFetch.delete(clientId);
    if (waiting.length > 0) {
      // A member that never fetches (it crashed right after its sync) must not stay forever.
      if (this.awaitingFetch.size >= this.limits.awaitingFetch) {
        const oldest = this.awaitingFetch.keys().next().value;
        if (oldest !== undefined) this.awaitingFetch.delete(oldest);
      }
      this.awaitingFetch.set(clientId, waiting);
    }
  }

  leaveRequested(groupId: string, memberId: string, reason: string, nowMs: number): void {
    const trace = this.trace(groupId);
    this.addPending(trace, {
      ...message(ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_LEAVE_REQUEST, nowMs),
      memberId,
      clientId: trace.clients.get(memberId) ?? '',
      summary: `LeaveGroup${reason ? ` — ${reason}` : ''}`,
    });
  }

  /** Whether a member with this client id has not fetched since its last SyncGroup answer. */
  awaitsFetch(clientId: string): boolean {
    return this.awaitingFetch.has(clientId);
  }

  /** A Fetch from this client id: the first one of a partition it was just given is recorded. Cheap when nobody waits. */
  fetched(
    clientId: string,
    partitions: readonly { topic: string; partition: number }[],
    nowMs: number,
  ): void {
    const waiting = this.awaitingFetch.get(clientId);
    if (!waiting) return;
    const left = waiting.filter((entry) => {
      const first = partitions.find((p) =>
        entry.partitions.has(topicPartitionKey(p.topic, p.partition)),
      );
      if (!first) return true;
      const trace = this.groups.get(entry.groupId);
      const sequence = trace?.sequences.find((s) => s.generationId === entry.generationId);
      if (sequence)
        this.add(sequence, {
          ...message(ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_FIRST_FETCH, nowMs),
          memberId: entry.memberId,
          clientId,
          summary: `Fetch: consuming again, from ${topicPartitionKey(first.topic, first.partition)}`,
        });
      return false;
    });
    if (left.length > 0) this.awaitingFetch.set(clientId, left);
    else this.awaitingFetch.delete(clientId);
  }

  /** The group's recent generations, oldest first (copies). */
  history(groupId: string): RebalanceSequence[] {
    const trace = this.groups.get(groupId);
    return (trace?.sequences ?? []).map((sequence) => ({
      ...sequence,
      messages: [...sequence.messages],
    }));
  }

  forget(groupId: string): void {
    this.groups.delete(groupId);
  }

  private trace(groupId: string): GroupTrace {
    let trace = this.groups.get(groupId);
    if (trace) {
      // Most recently touched last: the first entry is the one to forget.
      this.groups.delete(groupId);
    } else {
      trace = { pending: [], pendingDropped: 0, sequences: [], clients: new Map() };
      if (this.groups.size >= this.limits.groups) {
        const oldest = this.groups.keys().next().value;
        if (oldest !== undefined) this.groups.delete(oldest);
      }
    }
    this.groups.set(groupId, trace);
    return trace;
  }

  /** Member id → client id, bounded: every restart brings a new member id, so the oldest goes first. */
  private remember(trace: GroupTrace, memberId: string, clientId: string): void {
    trace.clients.delete(memberId);
    trace.clients.set(memberId, clientId);
    if (trace.clients.size > this.limits.messagesPerSequence) {
      const oldest = trace.clients.keys().next().value;
      if (oldest !== undefined) trace.clients.delete(oldest);
    }
  }

  private sequence(trace: GroupTrace, generationId: number, nowMs: number): RebalanceSequence {
    let sequence = trace.sequences.find((s) => s.generationId === generationId);
    if (!sequence) {
      sequence = {
        generationId,
        leader: '',
        protocolName: '',
        joinEndedMs: nowMs,
        messages: [],
        dropped: 0,
      };
      trace.sequences.push(sequence);
      trace.sequences.sort((a, b) => a.generationId - b.generationId);
      while (trace.sequences.length > this.limits.sequencesPerGroup) trace.sequences.shift();
    }
    return sequence;
  }

  private addPending(trace: GroupTrace, entry: ProtocolMessage): void {
    if (trace.pending.length >= this.limits.messagesPerSequence) {
      trace.pending.shift();
      trace.pendingDropped++;
    }
    trace.pending.push(entry);
  }

  private add(sequence: RebalanceSequence, entry: ProtocolMessage): void {
    if (sequence.messages.length >= this.limits.messagesPerSequence) sequence.dropped++;
    else sequence.messages.push(entry);
  }
}

function message(kind: ProtocolMessageKind, atMs: number): ProtocolMessage {
  return {
    atMs,
    kind,
    memberId: '',
    clientId: '',
    summary: '',
    members: [],
    shares: [],
    error: '',
  };
}
