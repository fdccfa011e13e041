/**
 * The bytes of Kafka requests the listener holds at once, across every
 * connection (Kafka's queued.max.request.bytes). A connection reserves a
 * request's size as soon as it reads the size prefix, before it buffers the
 * body, and gives it back once the answer is written or the connection
 * closes. When the budget is full, the connection stops reading its socket
 * and waits, first come first served; its client's requests stay in the
 * kernel's buffers and, past those, in the client. One request alone is
 * always admitted, so a request larger than the budget still runs.
 */
export class RequestBudget {
  private used = 0;
  private readonly waiting: { bytes: number; admitted: () => void }[] = [];

  constructor(readonly maxBytes: number) {}

  get usedBytes(): number {
    return this.used;
  }

  /** Connections waiting for room. */
  get waiters(): number {
    return this.waiting.length;
  }

  /** Reserves `bytes` now if they fit (and nobody waits before them). */
  tryTake(bytes: number): boolean {
    if (this.waiting.length > 0 || !this.fits(bytes)) return false;
    this.used += bytes;
    return true;
  }

  /** Calls `admitted` once `bytes` are reserved for the caller; returns how to stop waiting. */
  waitFor(bytes: number, admitted: () => void): () => void {
    const entry = { bytes, admitted };
    this.waiting.push(entry);
    return () => {
      const index = this.waiting.indexOf(entry);
      if (index >= 0) this.waiting.splice(index, 1);
      this.admitWaiting();
    };
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
    this.admitWaiting();
  }

  private fits(bytes: number): boolean {
    return this.used === 0 || this.used + bytes <= this.maxBytes;
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0].bytes)) {
      const next = this.waiting.shift() as { bytes: number; admitted: () => void };
      this.used += next.bytes;
      next.admitted();
    }
  }
}

/** What the budget reports to metrics and tests. */
export type RequestBudgetView = Pick<RequestBudget, 'usedBytes' | 'waiters' | 'maxBytes'>;
