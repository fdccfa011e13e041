import {
  ErrorReason,
  GroupState,
  MembershipEventType,
  type HeartbeatRequest,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type LeaveGroupRequest,
  type OffsetCommitRequest,
  type ResetOffsetsRequest,
  type ResetOffsetsResponse,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from '@hospital/proto';
import type { Logger } from 'pino';
import { BrokerError } from '../errors/broker-error';
import type { CoordinatorRuntime } from './runtime/coordinator-runtime';
import type { MembershipListener } from './runtime/membership-notices';
import { deleteGroup, expireGroups, resetOffsets } from './shard/group-admin';
import { joinGroup } from './shard/join';
import { leaveGroup } from './shard/leave';
import { commitOffsets } from './shard/offsets';
import { onPartitionsAdded } from './shard/rebalance';
import { failEveryHeldCall, heartbeat } from './shard/session';
import { syncGroup } from './shard/sync';
import type { GroupView } from './state/classic-group';
import { RebalanceTrace } from './trace/rebalance-trace';

/**
 * The coordinator's entry points, as Kafka's GroupCoordinatorService: each
 * request becomes its handler, run by the runtime. Nothing here decides
 * anything about groups (docs/architecture.md, "The coordinator").
 */
export class GroupCoordinatorService {
  constructor(
    private readonly runtime: CoordinatorRuntime,
    private readonly logger: Logger,
    /** Observation only: every rebalance's protocol messages, for the dashboard and `groups history`. */
    readonly trace = new RebalanceTrace(),
    private readonly now: () => number = () => Date.now(),
  ) {}

  group(groupId: string): GroupView | undefined {
    return this.runtime.shard.group(groupId);
  }

  groups(): GroupView[] {
    return [...this.runtime.shard.groups()];
  }

  /** Every failure, MEMBER_ID_REQUIRED included, comes back as a rejected promise. */
  joinGroup(request: JoinGroupRequest, clientHost: string): Promise<JoinGroupResponse> {
    this.trace.joinRequested(request, this.now());
    const answer = this.runtime.write<JoinGroupResponse>(joinGroup(request, clientHost));
    answer.then(
      (response) =>
        this.trace.joinAnswered(request.groupId, request.clientId, response, this.now()),
      (error: unknown) => this.trace.joinFailed(request, error, this.now()),
    );
    return answer;
  }

  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    this.trace.syncRequested(request, this.now());
    const answer = this.runtime.write<SyncGroupResponse>(syncGroup(request));
    answer.then(
      (response) => this.trace.syncAnswered(request, response, undefined, this.now()),
      (error: unknown) => this.trace.syncAnswered(request, undefined, error, this.now()),
    );
    return answer;
  }

  heartbeat(request: HeartbeatRequest): void {
    this.runtime.writeNow(heartbeat(request));
  }

  leaveGroup(request: LeaveGroupRequest): void {
    for (const member of request.members)
      this.trace.leaveRequested(request.groupId, member.memberId, member.reason, this.now());
    this.runtime.writeNow(leaveGroup(request));
  }

  commitOffsets(request: OffsetCommitRequest): Promise<void> {
    return this.runtime.write(commitOffsets(request));
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.runtime.write(deleteGroup(groupId));
    this.trace.forget(groupId);
    this.logger.info({ group: groupId }, 'group deleted');
  }

  async resetOffsets(request: ResetOffsetsRequest): Promise<ResetOffsetsResponse> {
    const response = await this.runtime.write<ResetOffsetsResponse>(resetOffsets(request));
    if (!request.dryRun)
      this.logger.info(
        { group: request.groupId, topic: request.topic, changes: response.changes.length },
        'offsets reset',
      );
    return response;
  }

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
    const unsubscribe = this.runtime.notices.watch(groupId, memberId, listener);
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
    return unsubscribe;
  }

  /** A topic grew: each group consuming it rebalances so the new partitions get owners. */
  onPartitionsAdded(topic: string, partitions: number): void {
    for (const group of this.groups())
      this.runtime.writeNow(onPartitionsAdded(group.groupId, topic, partitions));
  }

  /** Deletes the Empty groups idle past the offsets retention; resolves once their tombstones are durable. */
  async expireGroups(): Promise<void> {
    await this.runtime.write(expireGroups());
  }

  load(): { groups: number; offsets: number; records: number } {
    return this.runtime.load();
  }

  shutdown(): void {
    this.runtime.writeNow(failEveryHeldCall());
  }
}
