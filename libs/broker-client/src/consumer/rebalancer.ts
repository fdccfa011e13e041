import type { TopicPartitions } from '@hospital/proto';
import { toClientError, type BrokerClientError } from '../errors';
import type { Instrumentation } from '../instrumentation';
import { backoffMs, delay, type RetryOptions } from '../retry';
import type { ConsumerEvents } from './consumer-options';
import type { GroupMembership } from './membership';
import type { OffsetCommitter } from './offset-committer';
import type { OwnedPartitions } from './partition-state';
import type { StartingPositions } from './starting-positions';
import { fromKey, keysOf } from './topic-partition';

export interface RebalancerOptions {
  groupId: string;
  /** Every offered assignor is cooperative: keep consuming what stays through a rebalance. */
  cooperative: boolean;
  retry: RetryOptions;
}

/**
 * This member's side of a rebalance. Eager: commit, give up every
 * partition, rejoin, take the new assignment. Cooperative: rejoin while
 * consuming, give up only what moves, then rejoin once more so the freed
 * partitions reach their new owner.
 */
export class Rebalancer {
  private reason: string | undefined = 'first join';
  private startedAt = 0;
  private inProgress: Promise<void> | undefined;
  /** What this member reports owning when it joins (sticky assignors keep it). */
  private lastOwned: TopicPartitions[] = [];

  constructor(
    private readonly membership: GroupMembership,
    private readonly owned: OwnedPartitions,
    private readonly positions: StartingPositions,
    private readonly committer: OffsetCommitter,
    private readonly events: Instrumentation<ConsumerEvents>,
    private readonly options: RebalancerOptions,
    private readonly member: {
      topics(): string[];
      isRunning(): boolean;
      /** Stop waiting on a fetch: the loop should come round. */
      interrupt(): void;
      crash(error: BrokerClientError): void;
    },
  ) {}

  /** A rejoin is due and has not started yet. */
  get pending(): boolean {
    return this.reason !== undefined;
  }

  /** Asks the loop to rejoin as soon as the current batch is done (eager) or alongside it (cooperative). */
  request(reason: string): void {
    if (!this.member.isRunning() || this.reason !== undefined) return;
    this.reason = reason;
    this.startedAt = Date.now();
    this.events.emit('consumer.rebalancing', {
      groupId: this.options.groupId,
      memberId: this.membership.memberId,
      reason,
    });
    this.member.interrupt();
  }

  /** Starts the rebalance that is due, if any; an eager member waits for it to finish. */
  async maybeRebalance(): Promise<void> {
    if (this.reason === undefined || this.inProgress) return;
    this.inProgress = this.rebalance()
      .catch((error: unknown) => this.member.crash(toClientError(error)))
      .finally(() => (this.inProgress = undefined));
    // Eager: the group stops consuming until the new assignment arrives.
    // Cooperative: partitions that stay keep being consumed meanwhile.
    if (!this.options.cooperative || this.owned.size === 0) await this.inProgress;
  }

  /** Resolves when no rebalance is running. */
  async settled(): Promise<void> {
    await this.inProgress;
  }

  private async rebalance(): Promise<void> {
    const reason = this.reason as string;
    const started = this.startedAt || Date.now();
    if (!this.options.cooperative) {
      await this.committer.commitBeforeRevoke();
      this.revoke(this.owned.keys());
    }
    this.reason = undefined;
    let result;
    try {
      const owned = this.options.cooperative ? this.owned.toTopicPartitions() : this.lastOwned;
      result = await this.membership.join(this.member.topics(), owned, reason);
    } catch (error) {
      const failure = toClientError(error);
      if (failure.retriable) {
        this.reason = reason;
        await delay(backoffMs(0, this.options.retry));
        return;
      }
      throw failure;
    }
    const next = keysOf(result.assignment);
    const revoked = this.owned.keys().filter((key) => !next.has(key));
    if (revoked.length > 0) {
      await this.committer.commitBeforeRevoke();
      this.revoke(revoked);
    }
    await this.positions.initialize(this.owned.assign(next));
    this.lastOwned = result.assignment;
    const assignment: { [topic: string]: number[] } = {};
    for (const { topic, partitions } of result.assignment) assignment[topic] = partitions;
    this.events.emit('consumer.group.join', {
      groupId: this.options.groupId,
      memberId: result.memberId,
      leaderId: result.leaderId,
      isLeader: result.leaderId === result.memberId,
      generationId: result.generationId,
      protocol: result.protocolName,
      assignment,
      pauseMs: Date.now() - started,
    });
    this.startedAt = 0;
    // Cooperative: what we gave up is free now; a follow-up rebalance hands it to its new owner.
    if (this.options.cooperative && revoked.length > 0)
      this.request(`revoked ${revoked.length} partition(s) for their new owner`);
  }

  private revoke(keys: string[]): void {
    const revoked = this.owned.revoke(keys);
    if (revoked.length === 0) return;
    this.events.emit('consumer.revoke', {
      groupId: this.options.groupId,
      partitions: revoked.map((state) => fromKey(state.key)),
    });
  }
}
