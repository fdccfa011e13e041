import { ErrorReason } from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';

/**
 * Kafka's error codes that this listener answers with. The broker's own
 * ErrorReason values are Kafka's codes already; these are the ones only the
 * Kafka edge needs.
 */
export enum KafkaErrorCode {
  UNKNOWN_SERVER_ERROR = -1,
  NONE = 0,
  CORRUPT_MESSAGE = 2,
  COORDINATOR_NOT_AVAILABLE = 15,
  TOPIC_AUTHORIZATION_FAILED = 29,
  GROUP_AUTHORIZATION_FAILED = 30,
  UNSUPPORTED_SASL_MECHANISM = 33,
  ILLEGAL_SASL_STATE = 34,
  UNSUPPORTED_VERSION = 35,
  INVALID_REPLICATION_FACTOR = 38,
  INVALID_REPLICA_ASSIGNMENT = 39,
  INVALID_CONFIG = 40,
  INVALID_REQUEST = 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53,
  SASL_AUTHENTICATION_FAILED = 58,
  UNSUPPORTED_COMPRESSION_TYPE = 76,
  INVALID_RECORD = 87,
}

/**
 * A refusal only the Kafka edge makes (a record batch it cannot read, a
 * topic setting Kafka clients send that has no match here), with the code
 * the answer carries.
 */
export class KafkaRefusal extends Error {
  constructor(
    readonly code: KafkaErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The code a refusal is answered with: a KafkaRefusal's, or a BrokerError's
 * reason (its values are Kafka's codes). Anything else is a bug of ours and
 * is rethrown, so the connection logs it and closes instead of answering.
 */
export function kafkaCodeOf(error: unknown): number {
  if (error instanceof KafkaRefusal) return error.code;
  if (!(error instanceof BrokerError)) throw error;
  return error.reason === ErrorReason.ERROR_REASON_UNSPECIFIED
    ? KafkaErrorCode.UNKNOWN_SERVER_ERROR
    : error.reason;
}

/** Runs one item of a request (a topic, a member): its code and, when refused, the message. */
export function answerOf(work: () => void): { errorCode: number; errorMessage: string | null } {
  try {
    work();
    return { errorCode: KafkaErrorCode.NONE, errorMessage: null };
  } catch (error) {
    return { errorCode: kafkaCodeOf(error), errorMessage: (error as Error).message };
  }
}
