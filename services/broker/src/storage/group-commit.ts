import type { DurabilityLevel } from './durability';
import type { PartitionLog } from './partition-log';

/**
 * Decides when an acks=all append may be acknowledged, per durability level,
 * and runs the interval flush that makes `interval` a group commit: every
 * tick fsyncs each partition with unsynced data, then releases everyone
 * who was waiting before the tick began.
 */
export class GroupCommit {
  private waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

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
    await new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** One flush of every partition with unsynced data. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    const released = this.waiting;
    this.waiting = [];
    let failure: Error | undefined;
    try {
      await Promise.all(
        this.partitions()
          .filter((log) => log.durableEndOffset < log.logEndOffset)
          .map((log) => log.sync()),
      );
    } catch (error) {
      failure = error as Error;
    } finally {
      this.ticking = false;
    }
    // A failed fsync must not acknowledge anything as durable.
    for (const waiter of released) {
      if (failure) waiter.reject(failure);
      else waiter.resolve();
    }
  }

  /** Stops the timer after a last flush that releases every waiter. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.ticking) await new Promise((resolve) => setImmediate(resolve));
    await this.tick();
  }
}
