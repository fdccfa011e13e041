import { ErrorReason, reasonName, traitsOf, type ErrorDetail } from '@hospital/proto';

/**
 * The one error family of the broker: a Kafka error reason, a clear message
 * and facts that help the caller recover. The gRPC shell turns it into a
 * status (code from the reason) with the detail in the trailers.
 */
export class BrokerError extends Error {
  readonly retriable: boolean;

  constructor(
    readonly reason: ErrorReason,
    message: string,
    readonly metadata: { [key: string]: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = `BrokerError(${reasonName(reason)})`;
    this.retriable = traitsOf(reason).retriable;
  }

  toDetail(): ErrorDetail {
    return {
      reason: this.reason,
      message: this.message,
      retriable: this.retriable,
      metadata: this.metadata,
    };
  }
}

/** INVALID_REQUEST naming the offending field. */
export function invalidField(field: string, problem: string): BrokerError {
  return new BrokerError(ErrorReason.INVALID_REQUEST, `${field}: ${problem}`, { field });
}
