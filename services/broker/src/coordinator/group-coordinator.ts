import { randomUUID } from 'node:crypto';
import {
  ConsumerSubscription,
  ErrorReason,
  GroupState,
  MembershipEventType,
  RebalanceTrigger,
  type HeartbeatRequest,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type LeaveGroupRequest,
  type SyncGroupRequest,
  type SyncGroupResponse,
  type WatchMembershipResponse,
} from '@hospital/proto';
import type { Logger } from 'pino';
import { BrokerError, invalidField } from '../errors/broker-error';
import { ClassicGroup, GroupMember, type Protocol } from './classic-group';
import { HeldResponse } from './held-response';
import { stateName } from './group-state';
import type { CoordinatorClock } from './timer';

export interface CoordinatorConfig {
  /** Wait this long after the first member joins an Empty group, so others can join the same generation. */
  initialRebalanceDelayMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  maxGroupSize: number;
}

/** Where group metadata is made durable (the __consumer_offsets log). */
export interface GroupPersistence {
  storeGroup(group: ClassicGroup): Promise<void>;
}

export type MembershipListener = (event: WatchMembershipResponse) => void;

const CONSUMER_PROTOCOL = 'consumer';

/**
 * The classic group coordinator as a state machine: JoinGroup, SyncGroup,
 * Heartbeat and LeaveGroup move groups between states; timers (session,
 * rebalance, initial delay, pending member, sync) come from an injected
 * clock so tests drive time. JoinGroup and SyncGroup answers are held as
 * promises until the rebalance phase completes.
 */
export class GroupCoordinator {
  readonly groups = new Map<string, ClassicGroup>();
  private readonly watchers = new Map<string, Map<string, MembershipListener>>();
  private readonly initialDelayPending = new Set<string>();

  constructor(
    private readonly config: CoordinatorConfig,
    private readonly clock: CoordinatorClock,
    private readonly persistence: GroupPersistence,
    private readonly logger: Logger,
  ) {}

  group(groupId: string): ClassicGroup | undefined {
    const group = this.groups.get(groupId);
    return group && !group.is(GroupState.GROUP_STATE_DEAD) ? group : undefined;
  }

  // ---- JoinGroup -------------------------------------------------------

  /** Every failure, MEMBER_ID_REQUIRED included, comes back as a rejected promise. */
  async joinGroup(request: JoinGroupRequest, clientHost: string): Promise<JoinGroupResponse> {
    if (!request.groupId)
      throw new BrokerError(ErrorReason.INVALID_GROUP_ID, 'group_id must not be empty', {
        field: 'group_id',
      });
    const { minSessionTimeoutMs: min, maxSessionTimeoutMs: max } = this.config;
    if (request.sessionTimeoutMs < min || request.sessionTimeoutMs > max) {
      throw new BrokerError(
        ErrorReason.INVALID_SESSION_TIMEOUT,
        `session_timeout_ms must be between ${min} and ${max}, got ${request.sessionTimeoutMs}`,
        {
          field: 'session_timeout_ms',
        },
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
    const protocols: Protocol[] = request.protocols.map((protocol) => ({
      name: protocol.name,
      metadata: Buffer.from(protocol.metadata),
    }));
    let group = this.group(request.groupId);
    if (!group) {
      if (request.memberId) {
        throw new BrokerError(
          ErrorReason.UNKNOWN_MEMBER_ID,
          `group ${request.groupId} does not exist; join with an empty member id`,
        );
      }
      group = new ClassicGroup(request.groupId, this.clock.now());
      this.groups.set(group.groupId, group);
    }
    if (!group.acceptsProtocols(request.protocolType, protocols)) {
      throw new BrokerError(
        ErrorReason.INCONSISTENT_GROUP_PROTOCOL,
        `group ${group.groupId} uses protocol type "${group.protocolType}" with assignors [${group.candidateProtocols().join(', ')}]; this member offers "${request.protocolType}" [${protocols.map((protocol) => protocol.name).join(', ')}]`,
      );
    }
    const rebalanceTimeoutMs = request.rebalanceTimeoutMs || request.sessionTimeoutMs;
    const joining = { ...request, rebalanceTimeoutMs, protocols, host: clientHost };

    if (!request.memberId) {
      if (request.groupInstanceId !== undefined) return this.joinStaticWithoutId(group, joining);
      if (group.members.size >= this.config.maxGroupSize) {
        throw new BrokerError(
          ErrorReason.GROUP_MAX_SIZE_REACHED,
          `group ${group.groupId} already has ${group.members.size} members`,
        );
      }
      // Kafka's two-step join: hand out an id, expect the member back with it.
      const memberId = `${request.clientId || 'member'}-${randomUUID()}`;
      group.pendingMembers.add(memberId);
      this.clock.schedule(pendingKey(group, memberId), request.sessionTimeoutMs, () =>
        group.pendingMembers.delete(memberId),
      );
      throw new BrokerError(
        ErrorReason.MEMBER_ID_REQUIRED,
        `group ${group.groupId}: rejoin with the member id ${memberId}`,
        { member_id: memberId },
      );
    }

    if (group.pendingMembers.has(request.memberId)) {
      group.pendingMembers.delete(request.memberId);
      this.clock.cancel(pendingKey(group, request.memberId));
      const member = this.newMember(request.memberId, joining);
      return this.addMemberAndRebalance(
        group,
        member,
        `${member.clientId} joined${request.reason ? ` (${request.reason})` : ''}`,
      );
    }

    const member = group.requireMember(request.memberId, request.groupInstanceId);
    switch (group.state) {
      case GroupState.GROUP_STATE_PREPARING_REBALANCE:
        this.updateMember(member, joining);
        return this.awaitJoin(group, member);
      case GroupState.GROUP_STATE_COMPLETING_REBALANCE:
        if (member.sameProtocols(protocols))
          return Promise.resolve(this.joinResponse(group, member));
        this.updateMember(member, joining);
        return this.rebalanceAndAwait(
          group,
          member,
          RebalanceTrigger.REBALANCE_TRIGGER_METADATA_CHANGED,
          `${member.clientId} changed its subscription`,
        );
      case GroupState.GROUP_STATE_STABLE:
        if (member.memberId !== group.leaderId && member.sameProtocols(protocols)) {
          return Promise.resolve(this.joinResponse(group, member));
        }
        this.updateMember(member, joining);
        return this.rebalanceAndAwait(
          group,
          member,
          RebalanceTrigger.REBALANCE_TRIGGER_METADATA_CHANGED,
          request.reason ||
            (member.memberId === group.leaderId
              ? 'the leader rejoined'
              : `${member.clientId} changed its subscription`),
        );
      default:
        throw new BrokerError(
          ErrorReason.UNKNOWN_MEMBER_ID,
          `group ${group.groupId} is ${stateName(group.state)}`,
        );
    }
  }

  private joinStaticWithoutId(
    group: ClassicGroup,
    joining: JoiningMember,
  ): Promise<JoinGroupResponse> {
    const instanceId = joining.groupInstanceId as string;
    const previousId = group.staticMembers.get(instanceId);
    const memberId = `${instanceId}-${randomUUID()}`;
    if (previousId === undefined) {
      return this.addMemberAndRebalance(
        group,
        this.newMember(memberId, joining),
        joining.reason || `static member ${instanceId} joined`,
      );
    }
    // A restarted static member takes its old place: same assignment, and no
    // rebalance when the group is Stable and its subscription is unchanged.
    const previous = group.member(previousId) as GroupMember;
    const replacement = this.newMember(memberId, joining);
    replacement.assignment = previous.assignment;
    replacement.isNew = false;
    const wasLeader = group.leaderId === previousId;
    this.dropMember(
      group,
      previous,
      ErrorReason.FENCED_INSTANCE_ID,
      `replaced by a new instance of ${instanceId}`,
    );
    group.add(replacement);
    if (wasLeader) group.leaderId = memberId;
    this.scheduleSession(group, replacement);
    this.logger.info(
      { group: group.groupId, instanceId, memberId, previousId },
      'static member replaced',
    );
    if (group.is(GroupState.GROUP_STATE_STABLE) && previous.sameProtocols(joining.protocols)) {
      return Promise.resolve(this.joinResponse(group, replacement));
    }
    return this.rebalanceAndAwait(
      group,
      replacement,
      RebalanceTrigger.REBALANCE_TRIGGER_STATIC_MEMBER_REPLACED,
      `static member ${instanceId} restarted`,
    );
  }

  private newMember(memberId: string, joining: JoiningMember): GroupMember {
    return new GroupMember(
      memberId,
      joining.groupInstanceId,
      joining.clientId,
      joining.host,
      joining.sessionTimeoutMs,
      joining.rebalanceTimeoutMs,
      joining.protocolType,
      joining.protocols,
      this.clock.now(),
    );
  }

  private updateMember(member: GroupMember, joining: JoiningMember): void {
    member.protocols = joining.protocols;
    member.sessionTimeoutMs = joining.sessionTimeoutMs;
    member.rebalanceTimeoutMs = joining.rebalanceTimeoutMs;
    member.clientId = joining.clientId;
    member.host = joining.host;
  }

  private addMemberAndRebalance(
    group: ClassicGroup,
    member: GroupMember,
    reason: string,
  ): Promise<JoinGroupResponse> {
    group.add(member);
    group.newMemberAdded = true;
    this.scheduleSession(group, member);
    return this.rebalanceAndAwait(
      group,
      member,
      RebalanceTrigger.REBALANCE_TRIGGER_MEMBER_JOINED,
      reason,
    );
  }

  private rebalanceAndAwait(
    group: ClassicGroup,
    member: GroupMember,
    trigger: RebalanceTrigger,
    reason: string,
  ): Promise<JoinGroupResponse> {
    const joined = this.awaitJoin(group, member, false);
    this.prepareRebalance(group, trigger, reason);
    return joined;
  }

  private awaitJoin(
    group: ClassicGroup,
    member: GroupMember,
    tryComplete = true,
  ): Promise<JoinGroupResponse> {
    member.awaitingJoin?.reject(
      new BrokerError(
        ErrorReason.REBALANCE_IN_PROGRESS,
        'superseded by a newer JoinGroup of the same member',
      ),
    );
    const joined = new HeldResponse<JoinGroupResponse>();
    member.awaitingJoin = joined;
    if (tryComplete) this.maybeCompleteJoin(group);
    return joined.promise;
  }

  // ---- Rebalance phases ------------------------------------------------

  /** Starts (or joins) a rebalance: every member must rejoin within the rebalance timeout. */
  prepareRebalance(group: ClassicGroup, trigger: RebalanceTrigger, reason: string): void {
    const now = this.clock.now();
    group.startRebalanceRecord(trigger, reason, now);
    if (!group.is(GroupState.GROUP_STATE_PREPARING_REBALANCE)) {
      const wasEmpty = group.is(GroupState.GROUP_STATE_EMPTY);
      if (group.is(GroupState.GROUP_STATE_COMPLETING_REBALANCE)) this.failPendingSyncs(group);
      this.clock.cancel(syncKey(group));
      group.transitionTo(GroupState.GROUP_STATE_PREPARING_REBALANCE, now);
      this.logger.info(
        {
          group: group.groupId,
          generation: group.generationId,
          trigger: RebalanceTrigger[trigger],
          reason,
        },
        'rebalance started',
      );
      const timeoutMs = Math.max(
        0,
        ...[...group.members.values()].map((member) => member.rebalanceTimeoutMs),
      );
      this.clock.schedule(joinKey(group), timeoutMs, () => this.onJoinTimeout(group));
      if (wasEmpty && this.config.initialRebalanceDelayMs > 0) {
        this.initialDelayPending.add(group.groupId);
        this.clock.schedule(initialDelayKey(group), this.config.initialRebalanceDelayMs, () => {
          this.initialDelayPending.delete(group.groupId);
          this.maybeCompleteJoin(group);
        });
      }
      this.notifyGroup(group, {
        type: MembershipEventType.MEMBERSHIP_EVENT_TYPE_REBALANCE_STARTED,
        generationId: group.generationId,
        reason,
      });
    }
    this.maybeCompleteJoin(group);
  }

  private maybeCompleteJoin(group: ClassicGroup): void {
    if (!group.is(GroupState.GROUP_STATE_PREPARING_REBALANCE)) return;
    if (this.initialDelayPending.has(group.groupId)) return;
    if (group.allMembersRejoined()) this.completeJoin(group);
  }

  /** Members that did not rejoin within the rebalance timeout are dropped; the rest move on. */
  private onJoinTimeout(group: ClassicGroup): void {
    if (!group.is(GroupState.GROUP_STATE_PREPARING_REBALANCE)) return;
    this.initialDelayPending.delete(group.groupId);
    this.clock.cancel(initialDelayKey(group));
    for (const member of [...group.members.values()]) {
      if (!member.awaitingJoin)
        this.dropMember(
          group,
          member,
          ErrorReason.UNKNOWN_MEMBER_ID,
          'did not rejoin within the rebalance timeout',
        );
    }
    this.completeJoin(group);
  }

  /** Ends the join phase: next generation, protocol by vote, leader, answers to every held JoinGroup. */
  private completeJoin(group: ClassicGroup): void {
    const now = this.clock.now();
    this.clock.cancel(joinKey(group));
    group.generationId++;
    if (group.members.size === 0) {
      group.protocolName = '';
      group.leaderId = '';
      group.transitionTo(GroupState.GROUP_STATE_EMPTY, now);
      group.finishRebalanceRecord(now);
      this.logger.info({ group: group.groupId, generation: group.generationId }, 'group is empty');
      void this.persistence
        .storeGroup(group)
        .catch((error: unknown) =>
          this.logger.error({ err: error, group: group.groupId }, 'storing group metadata failed'),
        );
      return;
    }
    group.protocolName = group.selectProtocol();
    if (!group.member(group.leaderId)) group.leaderId = group.members.keys().next().value as string;
    group.transitionTo(GroupState.GROUP_STATE_COMPLETING_REBALANCE, now);
    group.pendingSync.clear();
    for (const member of group.members.values()) {
      group.pendingSync.add(member.memberId);
      const waiting = member.awaitingJoin;
      member.awaitingJoin = undefined;
      member.isNew = false;
      this.scheduleSession(group, member);
      waiting?.resolve(this.joinResponse(group, member));
    }
    const timeoutMs = Math.max(
      ...[...group.members.values()].map((member) => member.rebalanceTimeoutMs),
    );
    const generation = group.generationId;
    this.clock.schedule(syncKey(group), timeoutMs, () => this.onSyncTimeout(group, generation));
    this.logger.info(
      {
        group: group.groupId,
        generation,
        protocol: group.protocolName,
        leader: group.leaderId,
        members: group.members.size,
      },
      'join phase complete; waiting for the leader to sync',
    );
  }

  private joinResponse(group: ClassicGroup, member: GroupMember): JoinGroupResponse {
    const isLeader = member.memberId === group.leaderId;
    return {
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId,
      memberId: member.memberId,
      // Only the leader learns every member and its subscription.
      members: isLeader
        ? [...group.members.values()].map((other) => ({
            memberId: other.memberId,
            groupInstanceId: other.groupInstanceId,
            metadata: other.metadataFor(group.protocolName),
            clientId: other.clientId,
            host: other.host,
          }))
        : [],
    };
  }

  /** Members that never sent SyncGroup are dropped and the group rebalances without them. */
  private onSyncTimeout(group: ClassicGroup, generation: number): void {
    if (!group.is(GroupState.GROUP_STATE_COMPLETING_REBALANCE) || group.generationId !== generation)
      return;
    for (const memberId of [...group.pendingSync]) {
      const member = group.member(memberId);
      if (member)
        this.dropMember(
          group,
          member,
          ErrorReason.UNKNOWN_MEMBER_ID,
          'did not SyncGroup within the rebalance timeout',
        );
    }
    this.prepareRebalance(
      group,
      RebalanceTrigger.REBALANCE_TRIGGER_REJOIN_TIMEOUT,
      'members did not sync within the rebalance timeout',
    );
  }

  private failPendingSyncs(group: ClassicGroup): void {
    for (const member of group.members.values()) {
      member.awaitingSync?.reject(
        new BrokerError(
          ErrorReason.REBALANCE_IN_PROGRESS,
          `group ${group.groupId} is rebalancing; rejoin`,
        ),
      );
      member.awaitingSync = undefined;
    }
  }

  // ---- SyncGroup -------------------------------------------------------

  async syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    const group = this.group(request.groupId);
    if (!group)
      throw new BrokerError(
        ErrorReason.UNKNOWN_MEMBER_ID,
        `group ${request.groupId} does not exist`,
      );
    const member = group.requireMember(request.memberId, request.groupInstanceId);
    group.requireGeneration(request.generationId);
    if (
      (request.protocolType && request.protocolType !== group.protocolType) ||
      (request.protocolName && request.protocolName !== group.protocolName)
    ) {
      throw new BrokerError(
        ErrorReason.INCONSISTENT_GROUP_PROTOCOL,
        `group ${group.groupId} uses ${group.protocolType}/${group.protocolName}`,
      );
    }
    const answer = (assignment: Buffer): SyncGroupResponse => ({
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      assignment,
    });
    switch (group.state) {
      case GroupState.GROUP_STATE_PREPARING_REBALANCE:
        throw new BrokerError(
          ErrorReason.REBALANCE_IN_PROGRESS,
          `group ${group.groupId} is rebalancing; rejoin`,
        );
      case GroupState.GROUP_STATE_STABLE:
        this.touch(group, member);
        return answer(member.assignment);
      case GroupState.GROUP_STATE_COMPLETING_REBALANCE: {
        group.pendingSync.delete(member.memberId);
        member.awaitingSync?.reject(
          new BrokerError(
            ErrorReason.REBALANCE_IN_PROGRESS,
            'superseded by a newer SyncGroup of the same member',
          ),
        );
        const synced = new HeldResponse<Buffer>();
        member.awaitingSync = synced;
        // The leader's answer, like every follower's, comes through its held
        // response: a rebalance that starts while the assignment is being
        // stored fails it with REBALANCE_IN_PROGRESS, and the late write
        // then finds a newer rebalance and changes nothing.
        if (member.memberId === group.leaderId) this.applyLeaderAssignment(group, request);
        return answer(await synced.promise);
      }
      default:
        throw new BrokerError(
          ErrorReason.UNKNOWN_MEMBER_ID,
          `group ${group.groupId} is ${stateName(group.state)}`,
        );
    }
  }

  /** The leader's assignment: stored durably, then the group is Stable and every held SyncGroup is answered. */
  private applyLeaderAssignment(group: ClassicGroup, request: SyncGroupRequest): void {
    const given = new Map(
      request.assignments.map((assignment) => [
        assignment.memberId,
        Buffer.from(assignment.assignment),
      ]),
    );
    for (const member of group.members.values())
      member.assignment = given.get(member.memberId) ?? Buffer.alloc(0);
    const generation = group.generationId;
    const stillCompleting = () =>
      group.is(GroupState.GROUP_STATE_COMPLETING_REBALANCE) && group.generationId === generation;
    void this.persistence.storeGroup(group).then(
      () => {
        if (stillCompleting()) this.completeSync(group);
      },
      (error: unknown) => {
        this.logger.error(
          { err: error, group: group.groupId },
          'storing the assignment failed; rebalancing',
        );
        if (stillCompleting()) {
          this.prepareRebalance(
            group,
            RebalanceTrigger.REBALANCE_TRIGGER_METADATA_CHANGED,
            'the assignment could not be stored',
          );
        }
      },
    );
  }

  private completeSync(group: ClassicGroup): void {
    const now = this.clock.now();
    this.clock.cancel(syncKey(group));
    group.transitionTo(GroupState.GROUP_STATE_STABLE, now);
    group.finishRebalanceRecord(now);
    group.newMemberAdded = false;
    for (const member of group.members.values()) {
      member.awaitingSync?.resolve(member.assignment);
      member.awaitingSync = undefined;
    }
    this.logger.info(
      { group: group.groupId, generation: group.generationId, members: group.members.size },
      'group is stable',
    );
  }

  // ---- Heartbeat and LeaveGroup ----------------------------------------

  heartbeat(request: HeartbeatRequest): void {
    const group = this.group(request.groupId);
    if (!group)
      throw new BrokerError(
        ErrorReason.UNKNOWN_MEMBER_ID,
        `group ${request.groupId} does not exist`,
      );
    const member = group.requireMember(request.memberId, request.groupInstanceId);
    group.requireGeneration(request.generationId);
    this.touch(group, member);
    if (group.is(GroupState.GROUP_STATE_PREPARING_REBALANCE)) {
      throw new BrokerError(
        ErrorReason.REBALANCE_IN_PROGRESS,
        `group ${group.groupId} is rebalancing; rejoin`,
      );
    }
  }

  leaveGroup(request: LeaveGroupRequest): void {
    const group = this.group(request.groupId);
    if (!group)
      throw new BrokerError(
        ErrorReason.UNKNOWN_MEMBER_ID,
        `group ${request.groupId} does not exist`,
      );
    if (request.members.length === 0) throw invalidField('members', 'name at least one member');
    const leaving = request.members.map((identity) => {
      // A static member may leave by instance id alone.
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
    for (const { member, reason } of leaving) {
      this.dropMember(group, member, ErrorReason.UNKNOWN_MEMBER_ID, reason || 'left the group');
      this.afterMemberRemoved(
        group,
        RebalanceTrigger.REBALANCE_TRIGGER_MEMBER_LEFT,
        `${member.clientId} left: ${reason || 'graceful shutdown'}`,
      );
    }
  }

  // ---- Sessions --------------------------------------------------------

  private touch(group: ClassicGroup, member: GroupMember): void {
    member.lastHeartbeatMs = this.clock.now();
    this.scheduleSession(group, member);
  }

  private scheduleSession(group: ClassicGroup, member: GroupMember): void {
    this.clock.schedule(sessionKey(group, member.memberId), member.sessionTimeoutMs, () =>
      this.onSessionExpired(group, member.memberId),
    );
  }

  private onSessionExpired(group: ClassicGroup, memberId: string): void {
    const member = group.member(memberId);
    if (!member) return;
    if (member.awaitingJoin) {
      // A member waiting in JoinGroup is alive; its session restarts when the join completes.
      this.scheduleSession(group, member);
      return;
    }
    const silentMs = this.clock.now() - member.lastHeartbeatMs;
    this.logger.warn(
      { group: group.groupId, member: memberId, silentMs },
      'member session expired',
    );
    this.dropMember(
      group,
      member,
      ErrorReason.UNKNOWN_MEMBER_ID,
      `no heartbeat for ${member.sessionTimeoutMs} ms`,
    );
    this.afterMemberRemoved(
      group,
      RebalanceTrigger.REBALANCE_TRIGGER_SESSION_TIMEOUT,
      `${member.clientId} missed heartbeats for ${silentMs} ms`,
    );
  }

  private afterMemberRemoved(group: ClassicGroup, trigger: RebalanceTrigger, reason: string): void {
    if (
      group.is(GroupState.GROUP_STATE_STABLE) ||
      group.is(GroupState.GROUP_STATE_COMPLETING_REBALANCE)
    ) {
      this.prepareRebalance(group, trigger, reason);
    } else if (group.is(GroupState.GROUP_STATE_PREPARING_REBALANCE)) {
      group.startRebalanceRecord(trigger, reason, this.clock.now());
      this.maybeCompleteJoin(group);
    }
  }

  /** Takes a member out of the group, failing its held calls and telling its watcher. */
  private dropMember(
    group: ClassicGroup,
    member: GroupMember,
    failWith: ErrorReason,
    reason: string,
  ): void {
    group.remove(member.memberId);
    this.clock.cancel(sessionKey(group, member.memberId));
    const failure = new BrokerError(
      failWith,
      `member ${member.memberId} was removed from group ${group.groupId}: ${reason}`,
    );
    member.awaitingJoin?.reject(failure);
    member.awaitingSync?.reject(failure);
    member.awaitingJoin = undefined;
    member.awaitingSync = undefined;
    const watcher = this.watchers.get(group.groupId)?.get(member.memberId);
    watcher?.({
      type: MembershipEventType.MEMBERSHIP_EVENT_TYPE_MEMBER_REMOVED,
      generationId: group.generationId,
      reason,
    });
    this.watchers.get(group.groupId)?.delete(member.memberId);
    this.logger.info({ group: group.groupId, member: member.memberId, reason }, 'member removed');
  }

  // ---- Offset commit fencing --------------------------------------------

  /**
   * Whether a commit may be stored, as Kafka's classic coordinator decides:
   * generation -1 from no member commits for a group without members; a
   * group completing a rebalance answers REBALANCE_IN_PROGRESS; otherwise the
   * caller must be a current member (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID) of
   * the current generation (ILLEGAL_GENERATION). Commits during
   * PreparingRebalance are accepted so members can commit before rejoining;
   * an accepted commit also counts as a heartbeat.
   */
  authorizeCommit(
    groupId: string,
    memberId: string,
    groupInstanceId: string | undefined,
    generationId: number,
  ): void {
    let group = this.group(groupId);
    if (!group) {
      if (generationId >= 0 || memberId) {
        throw new BrokerError(
          ErrorReason.UNKNOWN_MEMBER_ID,
          `group ${groupId} has no members; commit with generation -1 and no member id`,
        );
      }
      group = new ClassicGroup(groupId, this.clock.now());
      this.groups.set(groupId, group);
      return;
    }
    if (generationId < 0 && !memberId && group.is(GroupState.GROUP_STATE_EMPTY)) return;
    if (group.is(GroupState.GROUP_STATE_COMPLETING_REBALANCE)) {
      throw new BrokerError(
        ErrorReason.REBALANCE_IN_PROGRESS,
        `group ${groupId} is completing a rebalance; rejoin before committing`,
      );
    }
    const member = group.requireMember(memberId, groupInstanceId);
    group.requireGeneration(generationId);
    this.touch(group, member);
  }

  /** Makes sure a group known only from its committed offsets is listed (as Empty). */
  ensureGroup(groupId: string): ClassicGroup {
    let group = this.group(groupId);
    if (!group) {
      group = new ClassicGroup(groupId, this.clock.now());
      this.groups.set(groupId, group);
    }
    return group;
  }

  // ---- Prompt notice ---------------------------------------------------

  /** Tells a member at once when its group starts rebalancing or drops it; returns an unsubscribe function. */
  watchMembership(
    groupId: string,
    memberId: string,
    generationId: number,
    listener: MembershipListener,
  ): () => void {
    const group = this.group(groupId);
    if (!group)
      throw new BrokerError(ErrorReason.UNKNOWN_MEMBER_ID, `group ${groupId} does not exist`);
    group.requireMember(memberId, undefined);
    let members = this.watchers.get(groupId);
    if (!members) this.watchers.set(groupId, (members = new Map()));
    members.set(memberId, listener);
    if (
      group.is(GroupState.GROUP_STATE_PREPARING_REBALANCE) ||
      group.generationId !== generationId
    ) {
      listener({
        type: MembershipEventType.MEMBERSHIP_EVENT_TYPE_REBALANCE_STARTED,
        generationId: group.generationId,
        reason: 'a rebalance is in progress',
      });
    }
    return () => {
      if (this.watchers.get(groupId)?.get(memberId) === listener)
        this.watchers.get(groupId)?.delete(memberId);
    };
  }

  private notifyGroup(group: ClassicGroup, event: WatchMembershipResponse): void {
    for (const listener of this.watchers.get(group.groupId)?.values() ?? []) listener(event);
  }

  // ---- Topic changes, deletion, loading --------------------------------

  /** A subscribed topic grew: groups consuming it rebalance so the new partitions get owners. */
  onPartitionsAdded(topic: string, partitions: number): void {
    for (const group of this.groups.values()) {
      if (
        !group.is(GroupState.GROUP_STATE_STABLE) &&
        !group.is(GroupState.GROUP_STATE_COMPLETING_REBALANCE)
      )
        continue;
      if (!subscribedTopics(group).has(topic)) continue;
      this.prepareRebalance(
        group,
        RebalanceTrigger.REBALANCE_TRIGGER_PARTITIONS_ADDED,
        `topic ${topic} now has ${partitions} partitions`,
      );
    }
  }

  /** Marks an Empty group Dead and forgets it (offsets are removed by the caller). */
  removeGroup(groupId: string): void {
    const group = this.group(groupId);
    if (!group) return;
    if (group.members.size > 0) {
      throw new BrokerError(
        ErrorReason.NON_EMPTY_GROUP,
        `group ${groupId} still has ${group.members.size} members`,
      );
    }
    group.transitionTo(GroupState.GROUP_STATE_DEAD, this.clock.now());
    for (const key of [joinKey(group), syncKey(group), initialDelayKey(group)])
      this.clock.cancel(key);
    this.groups.delete(groupId);
    this.watchers.delete(groupId);
  }

  /** Restores a group read back from __consumer_offsets; its members must heartbeat within their session timeout. */
  restoreGroup(group: ClassicGroup): void {
    this.groups.set(group.groupId, group);
    for (const member of group.members.values()) this.scheduleSession(group, member);
  }

  shutdown(): void {
    for (const group of this.groups.values()) {
      for (const member of group.members.values()) {
        const failure = new BrokerError(
          ErrorReason.COORDINATOR_NOT_AVAILABLE,
          'the broker is shutting down',
        );
        member.awaitingJoin?.reject(failure);
        member.awaitingSync?.reject(failure);
      }
    }
  }
}

interface JoiningMember {
  groupInstanceId?: string | undefined;
  clientId: string;
  host: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  reason: string;
}

/** Topics the members of a consumer group subscribe to, from their chosen protocol's metadata. */
export function subscribedTopics(group: ClassicGroup): Set<string> {
  const topics = new Set<string>();
  if (group.protocolType !== CONSUMER_PROTOCOL) return topics;
  for (const member of group.members.values()) {
    try {
      for (const topic of ConsumerSubscription.decode(member.metadataFor(group.protocolName))
        .topics)
        topics.add(topic);
    } catch {
      // Metadata that is not a ConsumerSubscription names no topics.
    }
  }
  return topics;
}

const sessionKey = (group: ClassicGroup, memberId: string) =>
  `session-${group.groupId}-${memberId}`;
const pendingKey = (group: ClassicGroup, memberId: string) =>
  `pending-${group.groupId}-${memberId}`;
const joinKey = (group: ClassicGroup) => `join-${group.groupId}`;
const syncKey = (group: ClassicGroup) => `sync-${group.groupId}`;
const initialDelayKey = (group: ClassicGroup) => `initial-delay-${group.groupId}`;
