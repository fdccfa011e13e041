/** One point of a group's lag and consume-rate chart. */
export interface SeriesSample {
  atMs: number;
  lag: number;
  consumeRate: number;
}

/** Samples kept per group: three minutes at one per second. Older ones are dropped first. */
export const SERIES_SAMPLES = 180;
/** Samples closer together than this are not kept (the snapshot is built more often than once a second). */
const MIN_SPACING_MS = 900;

/** The last minutes of each group's lag and consume rate, for the dashboard's charts. */
export class GroupSeries {
  private readonly samples = new Map<string, SeriesSample[]>();

  constructor(private readonly capacity = SERIES_SAMPLES) {}

  record(groupId: string, sample: SeriesSample): void {
    let kept = this.samples.get(groupId);
    if (!kept) this.samples.set(groupId, (kept = []));
    const last = kept.at(-1);
    if (last && sample.atMs - last.atMs < MIN_SPACING_MS) return;
    kept.push(sample);
    if (kept.length > this.capacity) kept.splice(0, kept.length - this.capacity);
  }

  of(groupId: string): SeriesSample[] {
    return [...(this.samples.get(groupId) ?? [])];
  }

  /** Forgets groups that no longer exist. */
  retain(groupIds: Set<string>): void {
    for (const groupId of this.samples.keys())
      if (!groupIds.has(groupId)) this.samples.delete(groupId);
  }
}
