import type { DurabilityLevel } from './durability';
import type { PartitionLog } from './partition-log';

export interface GroupCommitOptions {
  /** `fsync`: the least time between the starts of two fsyncs of one partition (0: none). */
  fsyncMinIntervalMs: number;
  /** `os`: how often a background flush fsyncs every partition with unsynced data. */
  flushIntervalMs: number;
}

/**
 * Decides when an append is acknowledged and when consumers may see it, per
 * durability level. At `fsync` each partition runs its own adaptive group
 * commit (`PartitionLog.sync`): the first waiter starts an fsync at once,
 * waiters arriving during it share the next. An optional least interval
 * between fsyncs bounds their rate, trading latency for fewer fsyncs. A
 * partition whose fsync fails fails only its own waiters.
 */
export class GroupCommit {
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** `fsync` with a least interval: the paced fsync each partition has scheduled, and when its last began. */
  private readonly scheduled = new Map<PartitionLog, Promise<void>>();
  private readonly lastStarted = new Map<PartitionLog, number>();

  constructor(
    private readonly level: DurabilityLevel,
    private readonly options: GroupCommitOptions,
    private readonly partitions: () => PartitionLog[],
    private readonly now: () => number = () => performance.now(),
  ) {}

  start(): void {
    if (this.level !== 'os') return;
    this.timer = setInterval(() => void this.flushAll(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  /** Where consumers stop reading: the durable end at `fsync`, the log end at `os`. */
  visibleEnd(log: PartitionLog): number {
    return this.level === 'os' ? log.logEndOffset : log.durableEndOffset;
  }

  /** Resolves once offsets below `endOffset` of `log` are as durable as the level promises. */
  async waitDurable(log: PartitionLog, endOffset: number): Promise<void> {
    if (this.level === 'os' || log.durableEndOffset >= endOffset) return;
    if (log.failed) throw log.storageError();
    if (this.options.fsyncMinIntervalMs <= 0) return log.sync();
    while (log.durableEndOffset < endOffset) await this.pacedSync(log);
  }

  private pacedSync(log: PartitionLog): Promise<void> {
    let next = this.scheduled.get(log);
    if (next) return next;
    const wait =
      (this.lastStarted.get(log) ?? -Infinity) + this.options.fsyncMinIntervalMs - this.now();
    next = (wait > 0 ? delay(wait) : Promise.resolve()).then(() => {
      this.scheduled.delete(log);
      this.lastStarted.set(log, this.now());
      return log.sync();
    });
    this.scheduled.set(log, next);
    return next;
  }

  /** One fsync of every partition with unsynced data; a failed one is left failed (fail-stop). */
  flushAll(): Promise<void> {
    this.flushing ??= Promise.all(
      this.partitions()
        .filter((log) => !log.failed && log.durableEndOffset < log.logEndOffset)
        .map((log) => log.sync().catch(() => undefined)),
    ).then(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Stops the background flush after a last one, so everything appended is durable. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled(this.scheduled.values());
    await this.flushAll();
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
