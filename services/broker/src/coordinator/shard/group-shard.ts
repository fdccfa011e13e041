import { ErrorReason, GroupState, RebalanceTrigger } from '@hospital/proto';
import type { Logger } from 'pino';
import { BrokerError } from '../../errors/broker-error';
import type { GroupRecord } from '../records/group-records';
import { savedMembers } from '../records/record-codec';
import { ClassicGroup, type GroupView } from '../state/classic-group';
import { OffsetStore, type OffsetsView } from '../state/offset-store';
import type { ShardTimers } from './timer-expiry';

/** The shard as handlers see it: read-only. */
export interface ShardView {
  /** A live group (not Dead). */
  group(groupId: string): GroupView | undefined;
  groups(): Iterable<GroupView>;
  readonly offsets: OffsetsView;
}

/**
 * The coordinator's state, Kafka's CoordinatorShard: every group and every
 * committed offset. `replay` is the only code that changes it, whether the
 * record was just returned by a handler or read back from __consumer_offsets
 * at start-up.
 */
export class GroupShard implements ShardView {
  private readonly groupMap = new Map<string, ClassicGroup>();
  private readonly offsetStore = new OffsetStore();

  constructor(
    private readonly timers: ShardTimers,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  group(groupId: string): ClassicGroup | undefined {
    const group = this.groupMap.get(groupId);
    return group && !group.is(GroupState.GROUP_STATE_DEAD) ? group : undefined;
  }

  groups(): Iterable<ClassicGroup> {
    return this.groupMap.values();
  }

  get offsets(): OffsetsView {
    return this.offsetStore;
  }

  get size(): number {
    return this.groupMap.size;
  }

  replay(record: GroupRecord): void {
    switch (record.type) {
      case 'group-metadata':
        return this.replayGroupMetadata(record);
      case 'group-tombstone':
        return this.replayGroupTombstone(record.groupId);
      case 'offset-commit':
        this.offsetStore.replay(record, record.value);
        // A group known only by its committed offsets is listed, as Empty.
        if (record.value) this.groupOrNew(record.groupId, record.value.commitTimestampMs);
        return;
      case 'member-id-issued':
        this.groupOrNew(record.groupId, record.atMs).issueMemberId(record.memberId);
        this.timers.schedule(
          { kind: 'pending-member', groupId: record.groupId, memberId: record.memberId },
          record.expiresInMs,
        );
        return;
      case 'pending-member-removed':
        this.require(record.groupId).forgetPendingMember(record.memberId);
        this.timers.cancel({
          kind: 'pending-member',
          groupId: record.groupId,
          memberId: record.memberId,
        });
        return;
      case 'member-added': {
        const { groupId, spec } = record;
        this.groupOrNew(groupId, record.atMs).addMember(spec, record.atMs);
        this.timers.cancel({ kind: 'pending-member', groupId, memberId: spec.memberId });
        this.scheduleSession(groupId, spec.memberId);
        return;
      }
      case 'member-updated':
        this.require(record.groupId).updateMember(record.spec);
        return;
      case 'static-member-replaced': {
        const { groupId, previousId, spec } = record;
        const group = this.require(groupId);
        group.requireMember(previousId, undefined).failHeld(record.failure);
        this.timers.cancel({ kind: 'session', groupId, memberId: previousId });
        group.replaceStaticMember(previousId, spec, record.atMs);
        this.scheduleSession(groupId, spec.memberId);
        this.logger.info(
          { group: groupId, instanceId: spec.groupInstanceId, memberId: spec.memberId, previousId },
          'static member replaced',
        );
        return;
      }
      case 'member-removed': {
        const group = this.require(record.groupId);
        group.requireMember(record.memberId, undefined).failHeld(record.failure);
        group.removeMember(record.memberId);
        this.timers.cancel({ kind: 'session', groupId: group.groupId, memberId: record.memberId });
        this.logger.info(
          { group: group.groupId, member: record.memberId, reason: record.failure.message },
          'member removed',
        );
        return;
      }
      case 'member-heartbeat':
        this.require(record.groupId)
          .requireMember(record.memberId, undefined)
          .heartbeat(record.atMs);
        this.scheduleSession(record.groupId, record.memberId);
        return;
      case 'session-extended':
        this.scheduleSession(record.groupId, record.memberId);
        return;
      case 'join-held':
        this.require(record.groupId)
          .requireMember(record.memberId, undefined)
          .holdJoin(record.held);
        return;
      case 'join-answered':
        this.require(record.groupId)
          .requireMember(record.memberId, undefined)
          .answerJoin(record.answer);
        return;
      case 'sync-held': {
        const group = this.require(record.groupId);
        group.markSynced(record.memberId);
        group.requireMember(record.memberId, undefined).holdSync(record.held);
        return;
      }
      case 'sync-answered':
        this.require(record.groupId)
          .requireMember(record.memberId, undefined)
          .answerSync(record.answer);
        return;
      case 'rebalance-started':
        return this.replayRebalanceStarted(record);
      case 'initial-delay-ended':
        this.require(record.groupId).endInitialDelay();
        this.timers.cancel({ kind: 'initial-delay', groupId: record.groupId });
        return;
      case 'join-completed':
        return this.replayJoinCompleted(record);
    }
  }

  /**
   * A group's metadata record means one of three things:
   * - the group is completing the rebalance of that generation: it is the
   *   leader's assignment, now durable, and the group becomes Stable;
   * - there is no group, or an older one (always so at start-up): the group
   *   is restored from it, Stable with its members, or Empty;
   * - the group has moved past it (a rebalance started while it was being
   *   written): it changes nothing.
   */
  private replayGroupMetadata(record: Extract<GroupRecord, { type: 'group-metadata' }>): void {
    const { groupId, value } = record;
    const group = this.group(groupId);
    if (
      group?.is(GroupState.GROUP_STATE_COMPLETING_REBALANCE) &&
      group.generationId === value.generationId
    ) {
      group.applyAssignment(
        new Map(value.members.map((member) => [member.memberId, Buffer.from(member.assignment)])),
        value.stateTimestampMs,
      );
      this.timers.cancel({ kind: 'sync', groupId, generationId: value.generationId });
      this.logger.info(
        { group: groupId, generation: group.generationId, members: group.members.size },
        'group is stable',
      );
      return;
    }
    if (group && group.generationId >= value.generationId) return;
    if (group) this.cancelTimers(group);
    const restored = ClassicGroup.restore(
      groupId,
      {
        generationId: value.generationId,
        protocolType: value.protocolType,
        protocolName: value.protocolName,
        leaderId: value.leader,
        members: savedMembers(value),
      },
      this.now(),
    );
    this.groupMap.set(groupId, restored);
    // Restored members must heartbeat within their session timeout.
    for (const memberId of restored.members.keys()) this.scheduleSession(groupId, memberId);
  }

  private replayGroupTombstone(groupId: string): void {
    const group = this.group(groupId);
    if (!group) return;
    this.cancelTimers(group);
    // A member that joined while the deletion was being written goes with the group.
    const failure = new BrokerError(ErrorReason.UNKNOWN_MEMBER_ID, `group ${groupId} was deleted`);
    for (const member of group.members.values()) member.failHeld(failure);
    group.markDead(this.now());
    this.groupMap.delete(groupId);
    this.logger.info({ group: groupId }, 'group deleted');
  }

  private replayRebalanceStarted(
    record: Extract<GroupRecord, { type: 'rebalance-started' }>,
  ): void {
    const { groupId } = record;
    const group = this.require(groupId);
    group.startRebalance(record.trigger, record.reason, record.atMs, record.initialDelayMs > 0);
    this.timers.cancel({ kind: 'sync', groupId, generationId: group.generationId });
    this.timers.schedule({ kind: 'join', groupId }, record.joinTimeoutMs);
    if (record.initialDelayMs > 0)
      this.timers.schedule({ kind: 'initial-delay', groupId }, record.initialDelayMs);
    this.logger.info(
      {
        group: groupId,
        generation: group.generationId,
        trigger: RebalanceTrigger[record.trigger],
        reason: record.reason,
      },
      'rebalance started',
    );
  }

  private replayJoinCompleted(record: Extract<GroupRecord, { type: 'join-completed' }>): void {
    const { groupId, generationId } = record;
    const group = this.require(groupId);
    this.timers.cancel({ kind: 'join', groupId });
    this.timers.cancel({ kind: 'initial-delay', groupId });
    group.completeJoin(generationId, record.protocolName, record.leaderId, record.atMs);
    if (group.members.size === 0) {
      this.logger.info({ group: groupId, generation: generationId }, 'group is empty');
      return;
    }
    for (const memberId of group.members.keys()) this.scheduleSession(groupId, memberId);
    this.timers.schedule({ kind: 'sync', groupId, generationId }, record.syncTimeoutMs);
    this.logger.info(
      {
        group: groupId,
        generation: generationId,
        protocol: group.protocolName,
        leader: group.leaderId,
        members: group.members.size,
      },
      'join phase complete; waiting for the leader to sync',
    );
  }

  private groupOrNew(groupId: string, nowMs: number): ClassicGroup {
    let group = this.group(groupId);
    if (!group) {
      group = new ClassicGroup(groupId, nowMs);
      this.groupMap.set(groupId, group);
    }
    return group;
  }

  private require(groupId: string): ClassicGroup {
    const group = this.group(groupId);
    if (!group) throw new Error(`replay: group ${groupId} does not exist`);
    return group;
  }

  private scheduleSession(groupId: string, memberId: string): void {
    const member = this.require(groupId).requireMember(memberId, undefined);
    this.timers.schedule({ kind: 'session', groupId, memberId }, member.sessionTimeoutMs);
  }

  private cancelTimers(group: ClassicGroup): void {
    const { groupId } = group;
    this.timers.cancel({ kind: 'join', groupId });
    this.timers.cancel({ kind: 'initial-delay', groupId });
    this.timers.cancel({ kind: 'sync', groupId, generationId: group.generationId });
    for (const memberId of group.members.keys())
      this.timers.cancel({ kind: 'session', groupId, memberId });
  }
}
