import { status, type Metadata } from '@grpc/grpc-js';
import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { ErrorReason, errorMetadata, traitsOf } from '@hospital/proto';
import type { Logger } from 'pino';
import { throwError, type Observable } from 'rxjs';
import { BrokerError } from '../errors/broker-error';

/** What grpc-js needs to end a call with a status. */
export interface GrpcStatusError {
  code: status;
  details: string;
  message: string;
  metadata: Metadata;
}

export function toGrpcStatus(error: BrokerError): GrpcStatusError {
  return {
    code: traitsOf(error.reason).code,
    details: error.message,
    message: error.message,
    metadata: errorMetadata(error.toDetail()),
  };
}

/**
 * Every failure leaves the broker as a gRPC status carrying its reason:
 * BrokerErrors as they are, anything else as UNKNOWN_SERVER_ERROR (logged,
 * because it is a bug), so no handler error can crash the process.
 */
@Catch()
export class GrpcExceptionFilter implements RpcExceptionFilter<unknown> {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown): Observable<never> {
    if (exception instanceof BrokerError) return throwError(() => toGrpcStatus(exception));
    this.logger.error({ err: exception }, 'unexpected error in a gRPC handler');
    const wrapped = new BrokerError(
      ErrorReason.UNKNOWN_SERVER_ERROR,
      'the broker failed unexpectedly; see its log',
    );
    return throwError(() => toGrpcStatus(wrapped));
  }
}
