import { ErrorReason } from '@hospital/proto';
import { toClientError, type BrokerClientError } from '../errors';
import type { Instrumentation } from '../instrumentation';
import type { CommitMode, ConsumerEvents } from './consumer-options';
import type { GroupMembership } from './membership';
import type { OwnedPartitions } from './partition-state';
import { fromKey } from './topic-partition';

export interface OffsetCommitterOptions {
  groupId: string;
  commitMode: CommitMode;
  autoCommitIntervalMs: number;
}

/** Commit refusals that mean "the group moved on": rejoin, then commit as the new generation. */
const REBALANCE_REASONS = [
  ErrorReason.REBALANCE_IN_PROGRESS,
  ErrorReason.ILLEGAL_GENERATION,
  ErrorReason.UNKNOWN_MEMBER_ID,
];

/**
 * The four commit modes. auto: every autoCommitIntervalMs; sync: after each
 * batch, waited for; async: after each batch, not waited for; manual: only
 * commitOffsets(). Every mode also commits what was processed before a
 * partition is given up and on a graceful stop.
 */
export class OffsetCommitter {
  private autoCommitTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly membership: GroupMembership,
    private readonly owned: OwnedPartitions,
    private readonly options: OffsetCommitterOptions,
    private readonly events: Instrumentation<ConsumerEvents>,
    private readonly onRejoinNeeded: (reason: string) => void,
    private readonly onFatal: (error: BrokerClientError) => void,
  ) {}

  start(): void {
    if (this.options.commitMode !== 'auto') return;
    this.autoCommitTimer = setInterval(
      () =>
        void this.commitProcessed().catch(() => {
          // A failed interval commit is retried at the next tick, as Kafka's auto-commit does.
        }),
      this.options.autoCommitIntervalMs,
    );
  }

  stop(): void {
    clearInterval(this.autoCommitTimer);
  }

  /** After a batch: sync mode waits for the commit, async mode does not. */
  async afterBatch(): Promise<void> {
    const epoch = this.membership.currentEpoch;
    if (this.options.commitMode === 'sync')
      await this.commitProcessed().catch((error: unknown) => this.onFailure(error, epoch));
    else if (this.options.commitMode === 'async')
      void this.commitProcessed().catch((error: unknown) => this.onFailure(error, epoch));
  }

  /** Commits what was processed and not yet committed, in the partitions still owned. */
  async commitProcessed(): Promise<void> {
    const pending = new Map(
      this.owned
        .all()
        .filter((state) => state.uncommitted)
        .map((state) => [state.key, state.processed as number]),
    );
    if (pending.size === 0 || !this.membership.memberId) return;
    await this.commit(pending);
  }

  /**
   * Commits before partitions are given up. Failure is expected here (the
   * group may already have moved on) and safe: the next owner reads from the
   * last commit, at least once.
   */
  async commitBeforeRevoke(): Promise<void> {
    await this.commitProcessed().catch(() => undefined);
  }

  /** `next offset to read` per partition key. */
  async commit(offsets: Map<string, number>): Promise<void> {
    await this.membership.commit(offsets);
    for (const [key, offset] of offsets) {
      const state = this.owned.get(key);
      if (state) state.committed = offset;
    }
    this.events.emit('consumer.commit', () => ({
      groupId: this.options.groupId,
      offsets: [...offsets].map(([key, offset]) => ({ ...fromKey(key), offset })),
    }));
  }

  /**
   * A commit refused because the group moved on is retried after the rejoin;
   * anything else is fatal. A refusal that arrives after this member already
   * rejoined is about the generation it left, and asks for nothing more.
   */
  private onFailure(error: unknown, epoch: number): void {
    const failure = toClientError(error);
    if (REBALANCE_REASONS.includes(failure.reason)) {
      if (this.membership.isCurrent(epoch)) this.onRejoinNeeded(failure.message);
    } else if (!failure.retriable) this.onFatal(failure);
  }
}
