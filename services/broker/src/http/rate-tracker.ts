interface Sample {
  atMs: number;
  value: number;
}

/**
 * Per-second rates of growing counters (log-end offsets, committed offsets)
 * over a sliding window. A counter that goes back (an offset reset) restarts
 * its window rather than reporting a negative rate.
 */
export class RateTracker {
  private readonly samples = new Map<string, Sample[]>();

  constructor(private readonly windowMs = 5_000) {}

  record(key: string, value: number, atMs: number): void {
    let series = this.samples.get(key);
    if (!series) this.samples.set(key, (series = []));
    const last = series[series.length - 1];
    if (last && value < last.value) series.length = 0;
    series.push({ atMs, value });
    // Keep one sample at or before the window's start so the rate spans the whole window.
    while (series.length > 2 && series[1].atMs <= atMs - this.windowMs) series.shift();
  }

  /** Units per second over the window; 0 until two samples are a moment apart. */
  perSecond(key: string): number {
    const series = this.samples.get(key);
    if (!series || series.length < 2) return 0;
    const first = series[0];
    const last = series[series.length - 1];
    const elapsedMs = last.atMs - first.atMs;
    return elapsedMs > 0 ? ((last.value - first.value) * 1_000) / elapsedMs : 0;
  }

  /** Drops counters not recorded in this round (deleted topics and groups). */
  retain(keys: Set<string>): void {
    for (const key of this.samples.keys()) if (!keys.has(key)) this.samples.delete(key);
  }
}
