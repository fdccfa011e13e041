import {
  ErrorReason,
  GroupState,
  type RebalanceRecord,
  type RebalanceTrigger,
} from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';
import { assertTransition } from './group-state';
import { GroupMember, type MemberSpec, type MemberView } from './group-member';

/** A group as handlers see it: read-only, with the checks every handler needs. */
export interface GroupView {
  readonly groupId: string;
  readonly state: GroupState;
  readonly generationId: number;
  readonly protocolType: string;
  readonly protocolName: string;
  readonly leaderId: string;
  readonly stateSinceMs: number;
  /** In join order: the first member to join becomes the leader. */
  readonly members: ReadonlyMap<string, MemberView>;
  /** Member ids handed out with MEMBER_ID_REQUIRED that have not joined yet. */
  readonly pendingMembers: ReadonlySet<string>;
  /** Static membership: group instance id -> member id. */
  readonly staticMembers: ReadonlyMap<string, string>;
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSync: ReadonlySet<string>;
  /** An Empty group's first rebalance waits the initial delay before its join phase may end. */
  readonly initialDelayPending: boolean;
  readonly history: readonly RebalanceRecord[];
  is(state: GroupState): boolean;
  member(memberId: string): MemberView | undefined;
  requireMember(memberId: string, groupInstanceId: string | undefined): MemberView;
  requireGeneration(generationId: number): void;
  candidateProtocols(): string[];
  acceptsProtocols(protocolType: string, protocols: readonly { name: string }[]): boolean;
  selectProtocol(): string;
  allMembersRejoined(): boolean;
  acceptsJoiningMember(memberId: string, maxGroupSize: number): boolean;
}

const HISTORY_LIMIT = 50;

/**
 * A classic consumer group: members, generation, leader, protocol, state
 * and rebalance history. Its fields are private; the shard changes it, while
 * replaying records, through the intent methods below, which keep its
 * invariants (legal state moves, one leader who is a member, generations
 * that only grow).
 */
export class ClassicGroup implements GroupView {
  private currentState = GroupState.GROUP_STATE_EMPTY;
  private generation = 0;
  private type = '';
  private protocol = '';
  private leader = '';
  private since: number;
  private delayPending = false;
  private readonly memberMap = new Map<string, GroupMember>();
  private readonly pending = new Set<string>();
  private readonly instances = new Map<string, string>();
  private readonly unsynced = new Set<string>();
  private readonly rebalances: RebalanceRecord[] = [];

  constructor(
    readonly groupId: string,
    nowMs: number,
  ) {
    this.since = nowMs;
  }

  get state(): GroupState {
    return this.currentState;
  }
  get generationId(): number {
    return this.generation;
  }
  get protocolType(): string {
    return this.type;
  }
  get protocolName(): string {
    return this.protocol;
  }
  get leaderId(): string {
    return this.leader;
  }
  get stateSinceMs(): number {
    return this.since;
  }
  get members(): ReadonlyMap<string, GroupMember> {
    return this.memberMap;
  }
  get pendingMembers(): ReadonlySet<string> {
    return this.pending;
  }
  get staticMembers(): ReadonlyMap<string, string> {
    return this.instances;
  }
  get pendingSync(): ReadonlySet<string> {
    return this.unsynced;
  }
  get initialDelayPending(): boolean {
    return this.delayPending;
  }
  get history(): readonly RebalanceRecord[] {
    return this.rebalances;
  }

  is(state: GroupState): boolean {
    return this.currentState === state;
  }

  member(memberId: string): GroupMember | undefined {
    return this.memberMap.get(memberId);
  }

  /** UNKNOWN_MEMBER_ID or FENCED_INSTANCE_ID when the caller is not (or no longer) this member. */
  requireMember(memberId: string, groupInstanceId: string | undefined): GroupMember {
    if (groupInstanceId !== undefined) {
      const current = this.instances.get(groupInstanceId);
      if (current !== undefined && current !== memberId) {
        throw new BrokerError(
          ErrorReason.FENCED_INSTANCE_ID,
          `group ${this.groupId}: instance "${groupInstanceId}" now belongs to member ${current}; ${memberId} was fenced`,
        );
      }
    }
    const member = this.memberMap.get(memberId);
    if (!member) {
      throw new BrokerError(
        ErrorReason.UNKNOWN_MEMBER_ID,
        `group ${this.groupId} has no member ${memberId || '(empty id)'}`,
        { group_id: this.groupId },
      );
    }
    return member;
  }

  /** ILLEGAL_GENERATION unless the caller speaks for the current generation. */
  requireGeneration(generationId: number): void {
    if (generationId !== this.generation) {
      throw new BrokerError(
        ErrorReason.ILLEGAL_GENERATION,
        `group ${this.groupId} is at generation ${this.generation}, not ${generationId}`,
        { generation_id: String(this.generation) },
      );
    }
  }

  /** Protocols every member supports. */
  candidateProtocols(): string[] {
    const members = [...this.memberMap.values()];
    if (members.length === 0) return [];
    return members[0].protocols
      .map((protocol) => protocol.name)
      .filter((name) => members.every((member) => member.supports(name)));
  }

  /** True when a new member's protocols keep at least one protocol common to all. */
  acceptsProtocols(protocolType: string, protocols: readonly { name: string }[]): boolean {
    if (this.memberMap.size === 0) return protocols.length > 0;
    if (protocolType !== this.type) return false;
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
    for (const member of this.memberMap.values()) {
      const choice = member.protocols.find((protocol) => votes.has(protocol.name));
      if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    const leader = this.memberMap.get(this.leader);
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

  /**
   * Kafka's acceptJoiningMember: whether this member's JoinGroup keeps the
   * group within maxGroupSize. While a rebalance gathers members, those
   * already rejoined count (so a lowered limit turns away the last to
   * rejoin); otherwise the members do. A known member that is already in
   * is always let through.
   */
  acceptsJoiningMember(memberId: string, maxGroupSize: number): boolean {
    switch (this.currentState) {
      case GroupState.GROUP_STATE_EMPTY:
      case GroupState.GROUP_STATE_DEAD:
        return true;
      case GroupState.GROUP_STATE_PREPARING_REBALANCE: {
        if (this.memberMap.get(memberId)?.awaitingJoin) return true;
        let awaiting = 0;
        for (const member of this.memberMap.values()) if (member.awaitingJoin) awaiting++;
        return awaiting < maxGroupSize;
      }
      default:
        return this.memberMap.has(memberId) || this.memberMap.size < maxGroupSize;
    }
  }

  allMembersRejoined(): boolean {
    return [...this.memberMap.values()].every((member) => member.awaitingJoin);
  }

  // ---- Intent methods, called only by the shard's replay ---------------

  issueMemberId(memberId: string): void {
    this.pending.add(memberId);
  }

  forgetPendingMember(memberId: string): void {
    this.pending.delete(memberId);
  }

  /** A member joins: the first one fixes the protocol type and leads. */
  addMember(spec: MemberSpec, nowMs: number): GroupMember {
    if (this.memberMap.has(spec.memberId))
      throw new Error(`group ${this.groupId} already has member ${spec.memberId}`);
    const member = new GroupMember(spec, nowMs);
    this.pending.delete(spec.memberId);
    if (this.memberMap.size === 0) this.type = spec.protocolType;
    this.memberMap.set(spec.memberId, member);
    if (spec.groupInstanceId !== undefined) this.instances.set(spec.groupInstanceId, spec.memberId);
    if (!this.leader) this.leader = spec.memberId;
    return member;
  }

  updateMember(spec: MemberSpec): void {
    this.requireMember(spec.memberId, undefined).update(spec);
  }

  /** A restarted static member takes its predecessor's place: its assignment and, if it led, the lead. */
  replaceStaticMember(previousId: string, spec: MemberSpec, nowMs: number): GroupMember {
    const previous = this.requireMember(previousId, undefined);
    if (previous.groupInstanceId === undefined || previous.groupInstanceId !== spec.groupInstanceId)
      throw new Error(`member ${previousId} is not instance ${spec.groupInstanceId}`);
    const wasLeader = this.leader === previousId;
    this.removeMember(previousId);
    const replacement = this.addMember(spec, nowMs);
    replacement.assign(previous.assignment);
    if (wasLeader) this.leader = replacement.memberId;
    return replacement;
  }

  /** Removes a member; elects the next member in join order when the leader leaves. */
  removeMember(memberId: string): GroupMember {
    const member = this.requireMember(memberId, undefined);
    this.memberMap.delete(memberId);
    this.unsynced.delete(memberId);
    if (
      member.groupInstanceId !== undefined &&
      this.instances.get(member.groupInstanceId) === memberId
    ) {
      this.instances.delete(member.groupInstanceId);
    }
    if (this.leader === memberId) this.leader = this.memberMap.keys().next().value ?? '';
    return member;
  }

  /** Starts a rebalance, or, while one is running, leaves it named by its first trigger. */
  startRebalance(
    trigger: RebalanceTrigger,
    reason: string,
    nowMs: number,
    initialDelay: boolean,
  ): void {
    this.startRebalanceRecord(trigger, reason, nowMs);
    if (this.is(GroupState.GROUP_STATE_PREPARING_REBALANCE)) return;
    this.transitionTo(GroupState.GROUP_STATE_PREPARING_REBALANCE, nowMs);
    this.delayPending = initialDelay;
  }

  endInitialDelay(): void {
    this.delayPending = false;
  }

  /** Ends the join phase: the next generation, its protocol and leader; Empty when nobody is left. */
  completeJoin(generationId: number, protocolName: string, leaderId: string, nowMs: number): void {
    if (generationId !== this.generation + 1)
      throw new Error(
        `group ${this.groupId}: generation ${generationId} does not follow ${this.generation}`,
      );
    this.generation = generationId;
    this.delayPending = false;
    this.unsynced.clear();
    if (this.memberMap.size === 0) {
      this.protocol = '';
      this.leader = '';
      this.transitionTo(GroupState.GROUP_STATE_EMPTY, nowMs);
      this.finishRebalanceRecord(nowMs);
      return;
    }
    if (!this.memberMap.has(leaderId))
      throw new Error(`group ${this.groupId}: leader ${leaderId} is not a member`);
    this.protocol = protocolName;
    this.leader = leaderId;
    this.transitionTo(GroupState.GROUP_STATE_COMPLETING_REBALANCE, nowMs);
    for (const memberId of this.memberMap.keys()) this.unsynced.add(memberId);
  }

  markSynced(memberId: string): void {
    this.unsynced.delete(memberId);
  }

  /** The leader's assignment is durable: every member gets its share and the group is Stable. */
  applyAssignment(assignments: ReadonlyMap<string, Buffer>, nowMs: number): void {
    for (const member of this.memberMap.values())
      member.assign(assignments.get(member.memberId) ?? Buffer.alloc(0));
    this.transitionTo(GroupState.GROUP_STATE_STABLE, nowMs);
    this.finishRebalanceRecord(nowMs);
  }

  markDead(nowMs: number): void {
    this.transitionTo(GroupState.GROUP_STATE_DEAD, nowMs);
  }

  /** Rebuilds a group from its last stored metadata: Stable with its members, or Empty. */
  static restore(
    groupId: string,
    saved: {
      generationId: number;
      protocolType: string;
      protocolName: string;
      leaderId: string;
      members: { spec: MemberSpec; assignment: Buffer }[];
    },
    nowMs: number,
  ): ClassicGroup {
    const group = new ClassicGroup(groupId, nowMs);
    group.generation = saved.generationId;
    group.type = saved.protocolType;
    group.protocol = saved.protocolName;
    for (const { spec, assignment } of saved.members)
      group.addMember(spec, nowMs).assign(assignment);
    if (group.memberMap.has(saved.leaderId)) group.leader = saved.leaderId;
    // Restoring is the one move the state table does not list: a new group
    // object starts in the state its record describes.
    if (group.memberMap.size > 0) group.currentState = GroupState.GROUP_STATE_STABLE;
    return group;
  }

  private transitionTo(state: GroupState, nowMs: number): void {
    assertTransition(this.groupId, this.currentState, state);
    this.currentState = state;
    this.since = nowMs;
  }

  private startRebalanceRecord(trigger: RebalanceTrigger, reason: string, nowMs: number): void {
    const running = this.rebalances[this.rebalances.length - 1];
    if (running && running.endedMs === 0) return; // one rebalance at a time; the first trigger names it
    this.rebalances.push({
      generationId: this.generation + 1,
      trigger,
      reason,
      startedMs: nowMs,
      endedMs: 0,
      members: this.memberMap.size,
    });
    if (this.rebalances.length > HISTORY_LIMIT) this.rebalances.shift();
  }

  private finishRebalanceRecord(nowMs: number): void {
    const running = this.rebalances[this.rebalances.length - 1];
    if (running && running.endedMs === 0) {
      running.endedMs = nowMs;
      running.generationId = this.generation;
      running.members = this.memberMap.size;
    }
  }
}
