import { status } from '@grpc/grpc-js';
import {
  ConsumerAssignment,
  ConsumerSubscription,
  ErrorReason,
  MembershipEventType,
  type JoinGroupResponse,
  type TopicPartitions,
} from '@hospital/proto';
import type { BrokerConnection } from '../connection/broker-connection';
import { BrokerClientError } from '../errors';
import { delay, withRetry, type RetryOptions } from '../retry';
import type { Assignor, MemberSubscription } from './assignors';
import { toTopicPartitions, tpKey } from './topic-partition';

export interface MembershipOptions {
  groupId: string;
  groupInstanceId?: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  assignors: Assignor[];
  retry: RetryOptions;
}

export interface JoinResult {
  generationId: number;
  memberId: string;
  leaderId: string;
  protocolName: string;
  assignment: TopicPartitions[];
}

/**
 * This member's side of the classic protocol: the two-step join, the leader's
 * assignment, sync, background heartbeats, and the broker's prompt notice
 * (WatchMembership). Anything that means "rejoin" calls `onRejoinNeeded`.
 */
export class GroupMembership {
  memberId = '';
  generationId = -1;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatInFlight = false;
  private lastHeartbeatAt = 0;
  private watch: { cancel(): void } | undefined;
  /**
   * Moves on whenever heartbeats stop (a rejoin, a close). A heartbeat's
   * answer or a notice from an earlier epoch is about a generation this
   * member has already left: acting on it would start a second, needless
   * rebalance (Kafka's consumer drops such stale answers too).
   */
  private epoch = 0;
  /** Aborted by close(): a join in progress stops retrying and its held call is cancelled. */
  private readonly closing = new AbortController();

  constructor(
    private readonly connection: BrokerConnection,
    private readonly options: MembershipOptions,
    private readonly onRejoinNeeded: (reason: string) => void,
    private readonly onFatal: (error: BrokerClientError) => void,
    private readonly onHeartbeat: () => void,
  ) {}

  /** Which membership epoch it is now; `isCurrent` tells later whether it still is. */
  get currentEpoch(): number {
    return this.epoch;
  }

  /** False once heartbeats stopped since `epoch`: an answer from then is stale. */
  isCurrent(epoch: number): boolean {
    return epoch === this.epoch;
  }

  /** Joins (or rejoins) and syncs; returns this member's share of the new generation. */
  async join(topics: string[], owned: TopicPartitions[], reason: string): Promise<JoinResult> {
    this.stopHeartbeats();
    const { signal } = this.closing;
    for (;;) {
      if (signal.aborted)
        throw new BrokerClientError(
          `group ${this.options.groupId}: the consumer stopped while joining`,
          ErrorReason.ERROR_REASON_UNSPECIFIED,
          status.CANCELLED,
          false,
        );
      let joined: JoinGroupResponse;
      try {
        joined = await this.connection.call(
          'joinGroup',
          {
            groupId: this.options.groupId,
            sessionTimeoutMs: this.options.sessionTimeoutMs,
            rebalanceTimeoutMs: this.options.rebalanceTimeoutMs,
            memberId: this.memberId,
            groupInstanceId: this.options.groupInstanceId,
            protocolType: 'consumer',
            protocols: this.options.assignors.map((assignor) => ({
              name: assignor.name,
              metadata: this.subscription(topics, owned),
            })),
            clientId: this.connection.clientId,
            reason,
          },
          { timeoutMs: this.options.rebalanceTimeoutMs + 10_000, signal },
        );
        this.memberId = joined.memberId;
        const assignments = joined.leader === joined.memberId ? await this.assign(joined) : [];
        const synced = await this.connection.call(
          'syncGroup',
          {
            groupId: this.options.groupId,
            generationId: joined.generationId,
            memberId: joined.memberId,
            groupInstanceId: this.options.groupInstanceId,
            protocolType: 'consumer',
            protocolName: joined.protocolName,
            assignments,
          },
          { timeoutMs: this.options.rebalanceTimeoutMs + 10_000, signal },
        );
        this.generationId = joined.generationId;
        this.startHeartbeats();
        const assignment =
          synced.assignment.length > 0
            ? ConsumerAssignment.decode(synced.assignment).partitions
            : [];
        return {
          generationId: joined.generationId,
          memberId: joined.memberId,
          leaderId: joined.leader,
          protocolName: joined.protocolName,
          assignment,
        };
      } catch (error) {
        if (!(error instanceof BrokerClientError)) throw error;
        if (error.is(ErrorReason.MEMBER_ID_REQUIRED))
          this.memberId = error.metadata.member_id ?? '';
        else if (error.is(ErrorReason.UNKNOWN_MEMBER_ID)) this.memberId = '';
        else if (error.is(ErrorReason.FENCED_INSTANCE_ID)) throw error;
        else if (
          !error.is(ErrorReason.REBALANCE_IN_PROGRESS) &&
          !error.is(ErrorReason.ILLEGAL_GENERATION) &&
          !error.retriable
        )
          throw error;
        else if (error.retriable) await delay(this.options.retry.initialBackoffMs, signal);
      }
    }
  }

  private subscription(topics: string[], owned: TopicPartitions[]): Buffer {
    return Buffer.from(
      ConsumerSubscription.encode({
        topics,
        userData: Buffer.alloc(0),
        ownedPartitions: owned,
        generationId: this.generationId,
      }).finish(),
    );
  }

  /** The leader's job: decode every member's subscription and run the chosen assignor. */
  private async assign(
    joined: JoinGroupResponse,
  ): Promise<{ memberId: string; assignment: Buffer }[]> {
    const assignor = this.options.assignors.find(
      (candidate) => candidate.name === joined.protocolName,
    );
    if (!assignor)
      throw new Error(
        `the group chose assignor ${joined.protocolName}, which this member does not have`,
      );
    const members: MemberSubscription[] = joined.members.map((member) => {
      const subscription = ConsumerSubscription.decode(member.metadata);
      return {
        memberId: member.memberId,
        topics: subscription.topics,
        ownedPartitions: subscription.ownedPartitions,
        generationId: subscription.generationId,
      };
    });
    const topics = [...new Set(members.flatMap((member) => member.topics))].sort();
    const partitionsPerTopic = new Map<string, number>();
    for (const topic of topics) {
      const described = await withRetry(
        () => this.connection.call('describeTopic', { name: topic }),
        this.options.retry,
        // A topic that cannot be described (deleted meanwhile) gets no partitions this generation.
      ).catch(() => undefined);
      if (described?.topic) partitionsPerTopic.set(topic, described.topic.partitions.length);
    }
    const assignment = assignor.assign(members, partitionsPerTopic);
    return members.map((member) => ({
      memberId: member.memberId,
      assignment: Buffer.from(
        ConsumerAssignment.encode({
          partitions: assignment.get(member.memberId) ?? [],
          userData: Buffer.alloc(0),
        }).finish(),
      ),
    }));
  }

  private startHeartbeats(): void {
    this.stopHeartbeats();
    this.heartbeatTimer = setInterval(
      () => void this.heartbeat(),
      this.options.heartbeatIntervalMs,
    );
    const stream = this.connection.watchMembership({
      groupId: this.options.groupId,
      memberId: this.memberId,
      generationId: this.generationId,
    });
    const epoch = this.epoch;
    stream.on('data', (event: { type: MembershipEventType; reason: string }) => {
      if (!this.isCurrent(epoch)) return;
      if (event.type === MembershipEventType.MEMBERSHIP_EVENT_TYPE_MEMBER_REMOVED)
        this.memberId = this.options.groupInstanceId ? this.memberId : '';
      this.onRejoinNeeded(event.reason || 'the coordinator started a rebalance');
    });
    stream.on('error', () => {}); // cancelled by us, or the broker went away: heartbeats notice that
    this.watch = stream;
  }

  stopHeartbeats(): void {
    this.epoch++;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    this.watch?.cancel();
    this.watch = undefined;
  }

  /**
   * The handlers' heartbeat(), as KafkaJS's: a heartbeat now if the interval
   * has passed since the last one (a long batch can keep the session alive
   * this way); otherwise nothing. Its answer, such as "rebalancing", reaches
   * the consumer as the background heartbeat's would.
   */
  async heartbeatIfDue(): Promise<void> {
    if (!this.heartbeatTimer) return;
    if (Date.now() - this.lastHeartbeatAt < this.options.heartbeatIntervalMs) return;
    await this.heartbeat();
  }

  private async heartbeat(): Promise<void> {
    // One heartbeat at a time: a slow broker must not pile calls up behind each other.
    if (this.heartbeatInFlight) return;
    this.heartbeatInFlight = true;
    this.lastHeartbeatAt = Date.now();
    const epoch = this.epoch;
    try {
      await this.connection.call('heartbeat', {
        groupId: this.options.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.options.groupInstanceId,
      });
      this.onHeartbeat();
    } catch (error) {
      if (!(error instanceof BrokerClientError) || !this.isCurrent(epoch)) return;
      if (error.is(ErrorReason.FENCED_INSTANCE_ID)) {
        this.stopHeartbeats();
        this.onFatal(error);
      } else if (error.is(ErrorReason.UNKNOWN_MEMBER_ID)) {
        this.memberId = '';
        this.onRejoinNeeded('the coordinator no longer knows this member');
      } else if (
        error.is(ErrorReason.REBALANCE_IN_PROGRESS) ||
        error.is(ErrorReason.ILLEGAL_GENERATION)
      ) {
        this.onRejoinNeeded(error.message);
      }
      // Network errors: keep heartbeating; the session timeout decides.
    } finally {
      this.heartbeatInFlight = false;
    }
  }

  /** The consumer is stopping: no more joins. */
  close(): void {
    this.closing.abort();
  }

  /** Commits `next offset to read` per partition key, as this member of this generation. */
  async commit(offsets: Map<string, number>): Promise<void> {
    if (offsets.size === 0) return;
    const topics = toTopicPartitions(offsets.keys()).map(({ topic, partitions }) => ({
      name: topic,
      partitions: partitions.map((partition) => ({
        partition,
        committedOffset: offsets.get(tpKey(topic, partition)) as number,
        metadata: '',
      })),
    }));
    await this.connection.call('offsetCommit', {
      groupId: this.options.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: this.options.groupInstanceId,
      topics,
    });
  }

  async leave(reason: string): Promise<void> {
    this.stopHeartbeats();
    // Static members do not leave: a restart within the session timeout takes their place back.
    if (!this.memberId || this.options.groupInstanceId) return;
    await this.connection
      .call('leaveGroup', {
        groupId: this.options.groupId,
        members: [{ memberId: this.memberId, groupInstanceId: undefined, reason }],
      })
      // The broker is gone or has already dropped us: its session timeout removes us anyway.
      .catch(() => undefined);
    this.memberId = '';
  }
}
