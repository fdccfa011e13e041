import type { PartitionLog } from '../storage/partition-log';

/** Wakes long-polling fetches when any partition they read from gets new data. */
export class AppendSignal {
  private readonly waiters = new Map<PartitionLog, Set<() => void>>();

  notify(log: PartitionLog): void {
    const waiters = this.waiters.get(log);
    if (!waiters) return;
    this.waiters.delete(log);
    for (const wake of waiters) wake();
  }

  /** Resolves on the first append to any of `logs`, after `timeoutMs`, or on abort. */
  wait(logs: readonly PartitionLog[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (timeoutMs <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        for (const log of logs) this.waiters.get(log)?.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      signal?.addEventListener('abort', wake);
      for (const log of logs) {
        let set = this.waiters.get(log);
        if (!set) this.waiters.set(log, (set = new Set()));
        set.add(wake);
      }
    });
  }

  /** Wakes everyone (shutdown). */
  wakeAll(): void {
    for (const log of [...this.waiters.keys()]) this.notify(log);
  }
}
