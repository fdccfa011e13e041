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
  UNKNOWN_TOPIC_OR_PARTITION = 3,
  COORDINATOR_NOT_AVAILABLE = 15,
  INVALID_TOPIC_EXCEPTION = 17,
  UNKNOWN_MEMBER_ID = 25,
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
  SASL_AUTHENTICATION_FAILED = 58,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53,
  UNSUPPORTED_COMPRESSION_TYPE = 76,
  MEMBER_ID_REQUIRED = 79,
  INVALID_RECORD = 87,
}

/** A BrokerError's Kafka code (its reason); anything else is a bug of ours, UNKNOWN_SERVER_ERROR. */
export function kafkaCodeOf(error: unknown): number {
  if (!(error instanceof BrokerError)) return KafkaErrorCode.UNKNOWN_SERVER_ERROR;
  return error.reason === ErrorReason.ERROR_REASON_UNSPECIFIED
    ? KafkaErrorCode.UNKNOWN_SERVER_ERROR
    : error.reason;
}

/** The message Kafka's error_message fields carry; null for success. */
export function kafkaMessageOf(error: unknown): string | null {
  if (error === undefined) return null;
  return error instanceof Error ? error.message : String(error);
}
