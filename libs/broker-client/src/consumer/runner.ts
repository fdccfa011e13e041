import type { Instrumentation } from '../instrumentation';
import { backoffMs, delay, type RetryOptions } from '../retry';
import type { ConsumerEvents, RunOptions } from './consumer-options';
import type { FetchedBatch, Fetcher } from './fetcher';
import type { OffsetCommitter } from './offset-committer';
import type { OwnedPartitions } from './partition-state';
import type { Rebalancer } from './rebalancer';
import type { StartingPositions } from './starting-positions';

export interface RunnerOptions {
  groupId: string;
  cooperative: boolean;
  retry: RetryOptions;
}

/**
 * The consumer's loop, as KafkaJS's Runner: rebalance when due, fetch,
 * hand each partition's records to eachMessage or eachBatch (several
 * partitions at once if asked), retry a failed record from where processing
 * stopped, commit as the mode says.
 */
export class Runner {
  constructor(
    private readonly owned: OwnedPartitions,
    private readonly fetcher: Fetcher,
    private readonly committer: OffsetCommitter,
    private readonly rebalancer: Rebalancer,
    private readonly positions: StartingPositions,
    private readonly events: Instrumentation<ConsumerEvents>,
    private readonly options: RunnerOptions,
    private readonly member: {
      isRunning(): boolean;
      /** Sends a heartbeat now if one is due (the handlers' heartbeat()). */
      heartbeat(): Promise<void>;
    },
  ) {}

  async loop(handlers: RunOptions): Promise<void> {
    while (this.member.isRunning()) {
      await this.rebalancer.maybeRebalance();
      if (!this.member.isRunning()) break;
      const batches = await this.fetcher.fetch();
      if (batches.length > 0) await this.process(batches, handlers);
      await this.committer.afterBatch();
    }
    await this.rebalancer.settled();
  }

  private async process(batches: FetchedBatch[], handlers: RunOptions): Promise<void> {
    const concurrency = Math.max(1, handlers.partitionsConsumedConcurrently ?? 1);
    const queue = [...batches];
    const worker = async () => {
      for (let item = queue.shift(); item; item = queue.shift())
        await this.processPartition(item, handlers);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  }

  private async processPartition(item: FetchedBatch, handlers: RunOptions): Promise<void> {
    const { state } = item;
    const { topic, partition } = state;
    // A seek while this batch is in hand wins: the rest of the batch is dropped.
    const seekMark = state.seeks;
    const current = () => this.owned.has(state) && state.seeks === seekMark;
    const stillOwned = () =>
      this.member.isRunning() &&
      current() &&
      (this.options.cooperative || !this.rebalancer.pending);
    const resolveOffset = (offset: number) => {
      if (!current()) return;
      state.markProcessed(offset);
      this.positions.progressed(state);
    };
    const heartbeat = () => this.member.heartbeat();
    for (let attempt = 0; ; attempt++) {
      const start = state.position ?? 0;
      const messages = item.records.filter((record) => record.offset >= start);
      if (messages.length === 0 || !stillOwned()) return;
      try {
        if (handlers.eachBatch) {
          await handlers.eachBatch({
            batch: { topic, partition, highWatermark: item.highWatermark, messages },
            resolveOffset,
            heartbeat,
            isRunning: stillOwned,
          });
        } else {
          const eachMessage = handlers.eachMessage as NonNullable<RunOptions['eachMessage']>;
          for (const message of messages) {
            if (!stillOwned()) return;
            await eachMessage({ topic, partition, message, heartbeat });
            resolveOffset(message.offset);
          }
        }
        return;
      } catch (error) {
        // At-least-once: the failed record is retried from where processing stopped.
        const failure = error instanceof Error ? error : new Error(String(error));
        const giveUp = attempt >= this.options.retry.retries;
        this.events.emit('consumer.crash', {
          groupId: this.options.groupId,
          error: failure,
          restart: !giveUp,
        });
        if (giveUp) throw failure;
        await delay(backoffMs(attempt, this.options.retry));
      }
    }
  }
}
