import { status, type ServiceError } from '@grpc/grpc-js';
import { ErrorReason, readErrorDetail, reasonName, traitsOf } from '@hospital/proto';

/**
 * Every failure the client reports: the broker's reason (a Kafka error name),
 * the gRPC status, and whether retrying the same request can help. Network
 * failures (broker down, deadline passed) carry no reason and are retriable.
 */
export class BrokerClientError extends Error {
  readonly reasonName: string;

  constructor(
    message: string,
    readonly reason: ErrorReason,
    readonly code: status,
    readonly retriable: boolean,
    readonly metadata: { [key: string]: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.reasonName =
      reason === ErrorReason.ERROR_REASON_UNSPECIFIED ? status[code] : reasonName(reason);
    this.name = `BrokerClientError(${this.reasonName})`;
  }

  is(reason: ErrorReason): boolean {
    return this.reason === reason;
  }
}

const TRANSIENT = new Set([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.CANCELLED,
]);

export function toClientError(error: unknown): BrokerClientError {
  if (error instanceof BrokerClientError) return error;
  const failure = error as Partial<ServiceError>;
  if (typeof failure.code !== 'number') {
    return new BrokerClientError(
      String((error as Error)?.message ?? error),
      ErrorReason.UNKNOWN_SERVER_ERROR,
      status.UNKNOWN,
      false,
      {},
      { cause: error },
    );
  }
  const detail = readErrorDetail(failure.metadata);
  if (detail) {
    return new BrokerClientError(
      detail.message,
      detail.reason,
      failure.code,
      detail.retriable ?? traitsOf(detail.reason).retriable,
      detail.metadata,
      { cause: error },
    );
  }
  return new BrokerClientError(
    failure.details || failure.message || status[failure.code],
    ErrorReason.ERROR_REASON_UNSPECIFIED,
    failure.code,
    TRANSIENT.has(failure.code),
    {},
    { cause: error },
  );
}
