import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ErrorReason } from '@hospital/proto';
import { BrokerError } from '../errors/broker-error';

/**
 * What a request that does not decode becomes: grpc-js would end such a call
 * with a bare INTERNAL "Error deserializing request", so the service
 * definition hands this on instead and the guard answers INVALID_REQUEST
 * with the message type and what was wrong.
 */
export class MalformedRequest {
  constructor(
    readonly type: string,
    readonly problem: string,
  ) {}
}

/** Wraps a request decoder so a decoding failure becomes a MalformedRequest, not an exception. */
export function tolerantDecoder<T>(
  type: string,
  decode: (bytes: Buffer) => T,
): (bytes: Buffer) => T | MalformedRequest {
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (error) {
      return new MalformedRequest(type, (error as Error).message);
    }
  };
}

@Injectable()
export class MalformedRequestGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const data: unknown = context.switchToRpc().getData();
    if (data instanceof MalformedRequest)
      throw new BrokerError(
        ErrorReason.INVALID_REQUEST,
        `the request is not a valid ${data.type}: ${data.problem}`,
        {
          message_type: data.type,
        },
      );
    return true;
  }
}
