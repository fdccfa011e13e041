/**
 * Which member processed which offset of one partition, in order: what the
 * offsets lessons count duplicates and gaps from.
 */
export class Ledger {
  private readonly entries: { member: string; offset: number }[] = [];

  process(member: string, offset: number): void {
    this.entries.push({ member, offset });
  }

  /** The highest offset this member processed, or -1. */
  lastBy(member: string): number {
    return this.entries
      .filter((entry) => entry.member === member)
      .reduce((last, entry) => Math.max(last, entry.offset), -1);
  }

  countBy(member: string): number {
    return this.entries.filter((entry) => entry.member === member).length;
  }

  /** Offsets processed more than once, ascending. */
  duplicated(): number[] {
    const seen = new Map<number, number>();
    for (const { offset } of this.entries) seen.set(offset, (seen.get(offset) ?? 0) + 1);
    return [...seen]
      .filter(([, times]) => times > 1)
      .map(([offset]) => offset)
      .sort((a, b) => a - b);
  }

  /** Offsets in [from, to] nobody processed, ascending. */
  missing(from: number, to: number): number[] {
    const seen = new Set(this.entries.map((entry) => entry.offset));
    const missing: number[] = [];
    for (let offset = from; offset <= to; offset++) if (!seen.has(offset)) missing.push(offset);
    return missing;
  }
}

/** The offsets from..to inclusive (none when to < from). */
export function span(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/** [3, 4, 5, 9] → "3–5, 9"; [] → "none". */
export function ranges(offsets: readonly number[]): string {
  const parts: string[] = [];
  let start = offsets[0];
  for (let i = 0; i < offsets.length; i++) {
    const offset = offsets[i];
    if (offsets[i + 1] === offset + 1) continue;
    parts.push(start === offset ? String(start) : `${start}–${offset}`);
    start = offsets[i + 1];
  }
  return parts.length ? parts.join(', ') : 'none';
}
