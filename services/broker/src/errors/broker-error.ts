import { ErrorReason, reasonName, traitsOf, type ErrorDetail } from '@hospital/proto';

/**
 * Errors echo what the caller sent (a topic or group name, say). Bounded, so a
 * 300 KB name cannot turn into trailers that HTTP/2 refuses to carry, and
 * well-formed, so it cannot break the status line.
 */
const MAX_MESSAGE_CHARS = 1_000;
const MAX_METADATA_CHARS = 256;

/** Lone UTF-16 surrogates (from a hostile name) would make grpc-js's encodeURI of the status message throw. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function bounded(text: string, max: number): string {
  const cut =
    text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
  return cut.replace(LONE_SURROGATE, '\ufffd');
}

/**
 * The one error family of the broker: a Kafka error reason, a clear message
 * and facts that help the caller recover. The gRPC shell turns it into a
 * status (code from the reason) with the detail in the trailers.
 */
export class BrokerError extends Error {
  readonly retriable: boolean;
  readonly metadata: { [key: string]: string };

  constructor(
    readonly reason: ErrorReason,
    message: string,
    metadata: { [key: string]: string } = {},
    options?: { cause?: unknown },
  ) {
    super(bounded(message, MAX_MESSAGE_CHARS), options);
    this.metadata = Object.fromEntries(
      Object.entries(metadata).map(([key, value]) => [key, bounded(value, MAX_METADATA_CHARS)]),
    );
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
