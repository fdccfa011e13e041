import { status } from '@grpc/grpc-js';
import { HttpException } from '@nestjs/common';
import { reasonName, traitsOf } from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';

const HTTP_STATUS: Partial<Record<status, number>> = {
  [status.INVALID_ARGUMENT]: 400,
  [status.OUT_OF_RANGE]: 400,
  [status.NOT_FOUND]: 404,
  [status.ALREADY_EXISTS]: 409,
  [status.FAILED_PRECONDITION]: 409,
  [status.PERMISSION_DENIED]: 403,
  [status.UNAVAILABLE]: 503,
  [status.RESOURCE_EXHAUSTED]: 429,
};

/**
 * A BrokerError as the HTTP answer a gRPC caller would get as a status: same
 * reason and message, and the field under the name the JSON body uses.
 */
export function toHttpError(error: unknown, fields: { [grpcField: string]: string } = {}): unknown {
  if (!(error instanceof BrokerError)) return error;
  const field = error.metadata.field
    ? (fields[error.metadata.field] ?? error.metadata.field)
    : undefined;
  return new HttpException(
    {
      message: error.message,
      reason: reasonName(error.reason),
      ...(field ? { field } : {}),
    },
    HTTP_STATUS[traitsOf(error.reason).code] ?? 500,
  );
}
