/**
 * Time for the coordinator, injected so tests control it: `now()` and
 * timers keyed by strings ("session-<group>-<member>"); scheduling a key
 * again replaces the previous timer of that key.
 */
export interface CoordinatorClock {
  now(): number;
  schedule(key: string, delayMs: number, callback: () => void): void;
  cancel(key: string): void;
}

/** Real time. */
export class SystemClock implements CoordinatorClock {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  schedule(key: string, delayMs: number, callback: () => void): void {
    this.cancel(key);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      callback();
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  cancel(key: string): void {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
  }

  cancelAll(): void {
    for (const key of [...this.timers.keys()]) this.cancel(key);
  }
}

/** Time that moves only when a test calls advance(); due timers fire in order. */
export class ManualClock implements CoordinatorClock {
  private time: number;
  private readonly timers = new Map<string, { at: number; callback: () => void; order: number }>();
  private order = 0;

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  schedule(key: string, delayMs: number, callback: () => void): void {
    this.timers.set(key, { at: this.time + delayMs, callback, order: this.order++ });
  }

  cancel(key: string): void {
    this.timers.delete(key);
  }

  /** Moves time forward, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, timer]) => timer.at <= target)
        .sort(([, a], [, b]) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      const [key, timer] = due;
      this.timers.delete(key);
      this.time = timer.at;
      timer.callback();
    }
    this.time = target;
  }
}
