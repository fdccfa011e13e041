import { status } from '@grpc/grpc-js';
import { ErrorReason } from '@hospital/proto';
import { BrokerClientError } from '../errors';

/**
 * Thrown when records waited longer than the producer's maxBlockMs for
 * room in its buffer (Kafka's buffer.memory / max.block.ms): the broker is
 * not keeping up, or cannot be reached. Retriable: the same send may
 * succeed once the backlog drains. A service answers it with 503.
 */
export class ProducerBufferFullError extends BrokerClientError {
  constructor(message: string) {
    super(message, ErrorReason.ERROR_REASON_UNSPECIFIED, status.RESOURCE_EXHAUSTED, true);
    this.name = 'ProducerBufferFullError';
  }
}

interface Waiter {
  bytes: number;
  deadline: number;
  grant(): void;
  fail(error: ProducerBufferFullError): void;
}

/**
 * The producer's bounded memory: bytes of records handed to send() and not
 * yet acknowledged or failed. A reservation that does not fit waits, in
 * arrival order (so per-key order holds), and fails after `maxBlockMs`.
 * Waiters' deadlines rise in arrival order, so one timer, armed for the
 * oldest, serves them all.
 */
export class BufferBudget {
  private used = 0;
  /** Waiting reservations from `head` on (an index, not shift(): the list can reach 100,000s). */
  private waiters: Waiter[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerFor: Waiter | undefined;

  constructor(
    readonly capacityBytes: number,
    private readonly maxBlockMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get usedBytes(): number {
    return this.used;
  }

  /** Throws when `bytes` could never be reserved, so a send refuses it before queueing anything. */
  assertFits(bytes: number): void {
    if (bytes > this.capacityBytes) {
      throw new ProducerBufferFullError(
        `a record of ${bytes} bytes is larger than the producer's whole buffer of ${this.capacityBytes} bytes (bufferBytes)`,
      );
    }
  }

  /** Resolves once `bytes` are reserved; undefined when they were reserved at once. */
  reserve(bytes: number): Promise<void> | undefined {
    this.assertFits(bytes);
    if (this.oldest === undefined && this.used + bytes <= this.capacityBytes) {
      this.used += bytes;
      return undefined;
    }
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({
        bytes,
        deadline: this.now() + this.maxBlockMs,
        grant: () => {
          this.used += bytes;
          resolve();
        },
        fail: reject,
      });
      this.armTimer();
    });
  }

  release(bytes: number): void {
    this.used -= bytes;
    for (
      let next = this.oldest;
      next && this.used + next.bytes <= this.capacityBytes;
      next = this.oldest
    ) {
      this.dequeue();
      next.grant();
    }
    this.armTimer();
  }

  private get oldest(): Waiter | undefined {
    return this.waiters[this.head];
  }

  private dequeue(): void {
    this.head++;
    if (this.head === this.waiters.length) {
      this.waiters = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.waiters = this.waiters.slice(this.head);
      this.head = 0;
    }
  }

  private armTimer(): void {
    const oldest = this.oldest;
    if (oldest === this.timerFor) return;
    clearTimeout(this.timer);
    this.timerFor = oldest;
    if (oldest)
      this.timer = setTimeout(() => this.expire(), Math.max(0, oldest.deadline - this.now()));
  }

  private expire(): void {
    this.timerFor = undefined;
    const now = this.now();
    for (let next = this.oldest; next && next.deadline <= now; next = this.oldest) {
      this.dequeue();
      next.fail(
        new ProducerBufferFullError(
          `the producer's buffer (${this.capacityBytes} bytes) stayed full for ${this.maxBlockMs} ms: the broker is not keeping up or cannot be reached`,
        ),
      );
    }
    this.release(0);
  }
}
