import type { Metadata, ServerDuplexStream } from '@grpc/grpc-js';
import { ErrorReason, type ErrorDetail } from '@hospital/proto';
import type { Logger } from 'pino';
import { BrokerError } from '../errors/broker-error';
import { toGrpcStatus } from './grpc-exception.filter';
import { MalformedRequest } from './malformed-request';

/** A request on a pipelined stream: ProduceStreamRequest, FetchStreamRequest. */
export interface PipelinedRequest<Request> {
  correlationId: number;
  request?: Request;
  /** Withdraws the request with this id (FetchStream only). */
  cancel?: boolean;
}

/** Its answer: the response, or the failure a unary call would have ended with. */
export interface PipelinedAnswer<Response> {
  correlationId: number;
  result: { $case: 'response'; value: Response } | { $case: 'error'; value: ErrorDetail };
}

export type PipelinedCall<Request, Response> = ServerDuplexStream<
  PipelinedRequest<Request> | MalformedRequest,
  PipelinedAnswer<Response>
>;

/**
 * Requests one stream may have unanswered. Past it the broker stops reading
 * the stream, so HTTP/2 flow control holds the client back until answers go out.
 */
export const PIPELINED_MAX_IN_FLIGHT = 256;

/**
 * Serves one pipelined RPC (ProduceStream, FetchStream): each message is one
 * request, handed to `handle` and answered with its correlation id, whatever
 * order they finish in. This is how a Kafka connection carries requests, and
 * it spares each request an HTTP/2 stream of its own. A failure is an
 * ErrorDetail in the answer; only a message that does not decode ends the
 * stream (INVALID_REQUEST), since it has no id to answer.
 */
export class PipelinedStreams<Request, Response> {
  private readonly open = new Map<PipelinedCall<Request, Response>, () => void>();

  constructor(
    private readonly name: string,
    private readonly handle: (
      request: Request | undefined,
      signal: AbortSignal,
      clientId: string,
    ) => Promise<Response>,
    private readonly logger: Logger,
  ) {}

  serve(call: PipelinedCall<Request, Response>): void {
    const inFlight = new Map<number, AbortController>();
    const clientId = clientIdOf(call.metadata);
    let ending = false;
    const finish = () => {
      if (ending && inFlight.size === 0 && this.open.delete(call)) call.end();
    };
    this.open.set(call, () => {
      ending = true;
      call.pause();
      for (const abort of inFlight.values()) abort.abort();
      finish();
    });
    call.on('data', (message: PipelinedRequest<Request> | MalformedRequest) => {
      if (message instanceof MalformedRequest) {
        this.open.delete(call);
        for (const abort of inFlight.values()) abort.abort();
        call.emit(
          'error',
          toGrpcStatus(
            new BrokerError(
              ErrorReason.INVALID_REQUEST,
              `a ${this.name} message is not a valid ${message.type}: ${message.problem}`,
            ),
          ),
        );
        return;
      }
      const { correlationId } = message;
      if (message.cancel) {
        inFlight.get(correlationId)?.abort();
        return;
      }
      if (ending || inFlight.has(correlationId)) return;
      const abort = new AbortController();
      inFlight.set(correlationId, abort);
      if (inFlight.size >= PIPELINED_MAX_IN_FLIGHT) call.pause();
      this.handle(message.request, abort.signal, clientId)
        .then(
          (value): PipelinedAnswer<Response>['result'] => ({ $case: 'response', value }),
          (error: unknown): PipelinedAnswer<Response>['result'] => ({
            $case: 'error',
            value: this.detail(error),
          }),
        )
        .then((result) => {
          inFlight.delete(correlationId);
          if (this.open.has(call)) call.write({ correlationId, result });
          if (!ending && inFlight.size < PIPELINED_MAX_IN_FLIGHT) call.resume();
          finish();
        });
    });
    call.on('end', () => {
      ending = true;
      finish();
    });
    const gone = () => {
      this.open.delete(call);
      for (const abort of inFlight.values()) abort.abort();
    };
    call.on('cancelled', gone);
    call.on('error', gone);
  }

  /** The broker is stopping: long polls answer now, and each stream ends once its requests are answered. */
  drainAll(): void {
    for (const drain of [...this.open.values()]) drain();
  }

  private detail(error: unknown): ErrorDetail {
    if (error instanceof BrokerError) return error.toDetail();
    this.logger.error({ err: error }, `unexpected error in a ${this.name} request`);
    return new BrokerError(
      ErrorReason.UNKNOWN_SERVER_ERROR,
      'the broker failed unexpectedly; see its log',
    ).toDetail();
  }
}

/** The `client-id` metadata our client sends (Kafka's client.id header); empty when absent. */
export function clientIdOf(metadata: Metadata): string {
  const value = metadata.get('client-id')[0];
  return typeof value === 'string' ? value.slice(0, 256) : '';
}
