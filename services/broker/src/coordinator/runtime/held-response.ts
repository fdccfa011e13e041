import type { BrokerError } from '../../errors/broker-error';

/**
 * An answer the coordinator holds open (a JoinGroup until the join phase
 * ends, a SyncGroup until the leader's assignment is stored). The caller
 * awaits `promise`; the coordinator settles it later, from another request
 * or a timer.
 *
 * The promise is marked as handled when it is created: a held call can be
 * failed after its caller has gone (the handler threw before returning it,
 * or the member was superseded by its own newer call), and that is not an
 * error of the broker. Whoever does await it still sees the rejection.
 */
export class HeldResponse<T> {
  readonly promise: Promise<T>;
  private settle!: { resolve(value: T): void; reject(error: BrokerError): void };

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => (this.settle = { resolve, reject }));
    this.promise.catch(() => undefined);
  }

  resolve(value: T): void {
    this.settle.resolve(value);
  }

  reject(error: BrokerError): void {
    this.settle.reject(error);
  }
}
