import { Metadata, status } from '@grpc/grpc-js';
import {
  ErrorDetail,
  ErrorReason,
  errorReasonToJSON,
} from '../generated/hospital/broker/v1/errors';

/** Trailer keys that carry the reason of a failed call. */
export const ERROR_REASON_KEY = 'x-error-reason';
export const ERROR_DETAIL_KEY = 'x-error-detail-bin';

interface ReasonTraits {
  code: status;
  retriable: boolean;
}

/**
 * How each reason travels: its gRPC status code and whether the same request
 * may succeed when retried. One table, read by the broker (to answer) and
 * the client (to decide on retries).
 */
const TRAITS: Partial<Record<ErrorReason, ReasonTraits>> = {
  [ErrorReason.UNKNOWN_SERVER_ERROR]: { code: status.INTERNAL, retriable: false },
  [ErrorReason.OFFSET_OUT_OF_RANGE]: { code: status.OUT_OF_RANGE, retriable: false },
  [ErrorReason.CORRUPT_MESSAGE]: { code: status.DATA_LOSS, retriable: false },
  [ErrorReason.UNKNOWN_TOPIC_OR_PARTITION]: { code: status.NOT_FOUND, retriable: false },
  [ErrorReason.REQUEST_TIMED_OUT]: { code: status.DEADLINE_EXCEEDED, retriable: true },
  [ErrorReason.COORDINATOR_LOAD_IN_PROGRESS]: { code: status.UNAVAILABLE, retriable: true },
  [ErrorReason.COORDINATOR_NOT_AVAILABLE]: { code: status.UNAVAILABLE, retriable: true },
  [ErrorReason.NOT_COORDINATOR]: { code: status.UNAVAILABLE, retriable: true },
  [ErrorReason.ILLEGAL_GENERATION]: { code: status.FAILED_PRECONDITION, retriable: false },
  [ErrorReason.INCONSISTENT_GROUP_PROTOCOL]: { code: status.FAILED_PRECONDITION, retriable: false },
  [ErrorReason.UNKNOWN_MEMBER_ID]: { code: status.FAILED_PRECONDITION, retriable: false },
  [ErrorReason.REBALANCE_IN_PROGRESS]: { code: status.ABORTED, retriable: false },
  [ErrorReason.MEMBER_ID_REQUIRED]: { code: status.FAILED_PRECONDITION, retriable: false },
  [ErrorReason.FENCED_INSTANCE_ID]: { code: status.FAILED_PRECONDITION, retriable: false },
  [ErrorReason.NON_EMPTY_GROUP]: { code: status.FAILED_PRECONDITION, retriable: false },
  [ErrorReason.GROUP_ID_NOT_FOUND]: { code: status.NOT_FOUND, retriable: false },
  [ErrorReason.GROUP_MAX_SIZE_REACHED]: { code: status.RESOURCE_EXHAUSTED, retriable: false },
  [ErrorReason.TOPIC_ALREADY_EXISTS]: { code: status.ALREADY_EXISTS, retriable: false },
  [ErrorReason.TOPIC_AUTHORIZATION_FAILED]: { code: status.PERMISSION_DENIED, retriable: false },
  [ErrorReason.GROUP_AUTHORIZATION_FAILED]: { code: status.PERMISSION_DENIED, retriable: false },
  [ErrorReason.CLUSTER_AUTHORIZATION_FAILED]: { code: status.PERMISSION_DENIED, retriable: false },
  [ErrorReason.KAFKA_STORAGE_ERROR]: { code: status.INTERNAL, retriable: true },
  [ErrorReason.UNSUPPORTED_VERSION]: { code: status.UNIMPLEMENTED, retriable: false },
};

/** Bad input of every other kind is INVALID_ARGUMENT and not worth retrying as is. */
const INVALID_INPUT: ReasonTraits = { code: status.INVALID_ARGUMENT, retriable: false };

export function traitsOf(reason: ErrorReason): ReasonTraits {
  return TRAITS[reason] ?? INVALID_INPUT;
}

/** The Kafka error name, for example "OFFSET_OUT_OF_RANGE". */
export function reasonName(reason: ErrorReason): string {
  return errorReasonToJSON(reason);
}

/** Trailing metadata that carries an error's reason and detail. */
export function errorMetadata(detail: ErrorDetail): Metadata {
  const metadata = new Metadata();
  metadata.set(ERROR_REASON_KEY, reasonName(detail.reason));
  metadata.set(ERROR_DETAIL_KEY, Buffer.from(ErrorDetail.encode(detail).finish()));
  return metadata;
}

/** Reads the detail of a failed call back from its trailers; undefined when there is none. */
export function readErrorDetail(metadata: Metadata | undefined): ErrorDetail | undefined {
  const [raw] = metadata?.get(ERROR_DETAIL_KEY) ?? [];
  if (!raw || typeof raw === 'string') return undefined;
  try {
    return ErrorDetail.decode(raw);
  } catch {
    return undefined;
  }
}
