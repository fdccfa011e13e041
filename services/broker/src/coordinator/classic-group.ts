import {
  ErrorReason,
  GroupState,
  RebalanceTrigger,
  type JoinGroupResponse,
  type RebalanceRecord,
} from '@hospital/proto';
import { BrokerError } from '../errors/broker-error';
import { assertTransition } from './group-state';
import type { HeldResponse } from './held-response';

export interface Protocol {
  name: string;
  metadata: Buffer;
}

/** One member of a classic group, as the coordinator tracks it. */
export class GroupMember {
  assignment: Buffer = Buffer.alloc(0);
  /** Set while the member's JoinGroup is held open. */
  awaitingJoin: HeldResponse<JoinGroupResponse> | undefined;
  /** Set while the member's SyncGroup is held open. */
  awaitingSync: HeldResponse<Buffer> | undefined;
  lastHeartbeatMs: number;
  /** Joined in the current rebalance for the first time. */
  isNew = true;

  constructor(
    readonly memberId: string,
    public groupInstanceId: string | undefined,
    public clientId: string,
    public host: string,
    public sessionTimeoutMs: number,
    public rebalanceTimeoutMs: number,
    public protocolType: string,
    public protocols: Protocol[],
    nowMs: number,
  ) {
    this.lastHeartbeatMs = nowMs;
  }

  supports(protocol: string): boolean {
    return this.protocols.some((candidate) => candidate.name === protocol);
  }

  metadataFor(protocol: string): Buffer {
    return (
      this.protocols.find((candidate) => candidate.name === protocol)?.metadata ?? Buffer.alloc(0)
    );
  }

  sameProtocols(protocols: Protocol[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every(
        (protocol, index) =>
          protocol.name === this.protocols[index].name &&
          protocol.metadata.equals(this.protocols[index].metadata),
      )
    );
  }
}

const HISTORY_LIMIT = 50;

/** A classic consumer group: members, generation, leader, protocol, state and rebalance history. */
export class ClassicGroup {
  state = GroupState.GROUP_STATE_EMPTY;
  generationId = 0;
  protocolType = '';
  protocolName = '';
  leaderId = '';
  stateSinceMs: number;
  /** In join order: the first member to join becomes the leader. */
  readonly members = new Map<string, GroupMember>();
  /** Member ids handed out with MEMBER_ID_REQUIRED that have not joined yet. */
  readonly pendingMembers = new Set<string>();
  /** Static membership: group instance id -> member id. */
  readonly staticMembers = new Map<string, string>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSync = new Set<string>();
  readonly history: RebalanceRecord[] = [];
  /** Set when the group's metadata needs writing on the next Stable. */
  newMemberAdded = false;

  constructor(
    readonly groupId: string,
    nowMs: number,
  ) {
    this.stateSinceMs = nowMs;
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  transitionTo(state: GroupState, nowMs: number): void {
    assertTransition(this.groupId, this.state, state);
    this.state = state;
    this.stateSinceMs = nowMs;
  }

  member(memberId: string): GroupMember | undefined {
    return this.members.get(memberId);
  }

  /** UNKNOWN_MEMBER_ID or FENCED_INSTANCE_ID when the caller is not (or no longer) this member. */
  requireMember(memberId: string, groupInstanceId: string | undefined): GroupMember {
    if (groupInstanceId !== undefined) {
      const current = this.staticMembers.get(groupInstanceId);
      if (current !== undefined && current !== memberId) {
        throw new BrokerError(
          ErrorReason.FENCED_INSTANCE_ID,
          `group ${this.groupId}: instance "${groupInstanceId}" now belongs to member ${current}; ${memberId} was fenced`,
        );
      }
    }
    const member = this.members.get(memberId);
    if (!member) {
      throw new BrokerError(
        ErrorReason.UNKNOWN_MEMBER_ID,
        `group ${this.groupId} has no member ${memberId || '(empty id)'}`,
        {
          group_id: this.groupId,
        },
      );
    }
    return member;
  }

  /** ILLEGAL_GENERATION unless the caller speaks for the current generation. */
  requireGeneration(generationId: number): void {
    if (generationId !== this.generationId) {
      throw new BrokerError(
        ErrorReason.ILLEGAL_GENERATION,
        `group ${this.groupId} is at generation ${this.generationId}, not ${generationId}`,
        {
          generation_id: String(this.generationId),
        },
      );
    }
  }

  add(member: GroupMember): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== undefined)
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    if (!this.leaderId) this.leaderId = member.memberId;
  }

  /** Removes a member; elects the next member in join order when the leader leaves. */
  remove(memberId: string): GroupMember | undefined {
    const member = this.members.get(memberId);
    if (!member) return undefined;
    this.members.delete(memberId);
    this.pendingSync.delete(memberId);
    if (
      member.groupInstanceId !== undefined &&
      this.staticMembers.get(member.groupInstanceId) === memberId
    ) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? '';
    return member;
  }

  /** Protocols every member supports. */
  candidateProtocols(): string[] {
    const members = [...this.members.values()];
    if (members.length === 0) return [];
    return members[0].protocols
      .map((protocol) => protocol.name)
      .filter((name) => members.every((member) => member.supports(name)));
  }

  /** True when a new member's protocols keep at least one protocol common to all. */
  acceptsProtocols(protocolType: string, protocols: Protocol[]): boolean {
    if (this.members.size === 0) return protocols.length > 0;
    if (protocolType !== this.protocolType) return false;
    const candidates = new Set(this.candidateProtocols());
    return protocols.some((protocol) => candidates.has(protocol.name));
  }

  /**
   * The protocol (assignor) chosen by vote: every member votes for the first
   * protocol in its own preference order that all members support; the most
   * votes win, ties go to the leader's preference.
   */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>(candidates.map((name) => [name, 0]));
    for (const member of this.members.values()) {
      const choice = member.protocols.find((protocol) => votes.has(protocol.name));
      if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    const leader = this.members.get(this.leaderId);
    const preference = leader ? leader.protocols.map((protocol) => protocol.name) : candidates;
    let best = '';
    let bestVotes = -1;
    for (const name of preference) {
      const count = votes.get(name) ?? -1;
      if (count > bestVotes) {
        best = name;
        bestVotes = count;
      }
    }
    return best;
  }

  allMembersRejoined(): boolean {
    return [...this.members.values()].every((member) => member.awaitingJoin !== undefined);
  }

  startRebalanceRecord(trigger: RebalanceTrigger, reason: string, nowMs: number): void {
    const running = this.history[this.history.length - 1];
    if (running && running.endedMs === 0) return; // one rebalance at a time; the first trigger names it
    this.history.push({
      generationId: this.generationId + 1,
      trigger,
      reason,
      startedMs: nowMs,
      endedMs: 0,
      members: this.members.size,
    });
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
  }

  finishRebalanceRecord(nowMs: number): void {
    const running = this.history[this.history.length - 1];
    if (running && running.endedMs === 0) {
      running.endedMs = nowMs;
      running.generationId = this.generationId;
      running.members = this.members.size;
    }
  }
}
