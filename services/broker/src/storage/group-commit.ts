import type { DurabilityLevel } from './durability';
import type { PartitionLog } from './partition-log';

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Decides when an acks=all append may be acknowledged, per durability level,
 * and runs the interval flush that makes `interval` a group commit: every
 * tick fsyncs each partition with unsynced data, then releases everyone
 * who was waiting on that partition before the tick began. A partition
 * whose fsync fails fails only its own waiters.
 */
export class GroupCommit {
  private waiting = new Map<PartitionLog, Waiter[]>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly level: DurabilityLevel,
    private readonly intervalMs: number,
    private readonly partitions: () => PartitionLog[],
  ) {}

  start(): void {
    if (this.level === 'os') return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** Resolves once offsets below `endOffset` of `log` are as durable as the level promises. */
  async waitDurable(log: PartitionLog, endOffset: number): Promise<void> {
    if (this.level === 'os' || log.durableEndOffset >= endOffset) return;
    if (this.level === 'append') return log.sync();
    if (log.failed) throw log.storageError();
    await new Promise<void>((resolve, reject) => {
      const list = this.waiting.get(log) ?? [];
      this.waiting.set(log, list);
      list.push({ resolve, reject });
    });
  }

  /** One flush of every partition with unsynced data or someone waiting. */
  tick(): Promise<void> {
    this.ticking ??= this.flush().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async flush(): Promise<void> {
    const released = this.waiting;
    this.waiting = new Map();
    const logs = new Set(released.keys());
    for (const log of this.partitions())
      if (!log.failed && log.durableEndOffset < log.logEndOffset) logs.add(log);
    await Promise.all(
      [...logs].map(async (log) => {
        let failure: unknown;
        try {
          await log.sync();
        } catch (error) {
          failure = error;
        }
        // A failed fsync must not acknowledge anything as durable.
        for (const waiter of released.get(log) ?? []) {
          if (failure === undefined) waiter.resolve();
          else waiter.reject(failure);
        }
      }),
    );
  }

  /** Stops the timer after a last flush that releases every waiter. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
    await this.tick();
  }
}
