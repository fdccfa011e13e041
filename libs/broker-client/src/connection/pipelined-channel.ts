import { status, type ClientDuplexStream } from '@grpc/grpc-js';
import { ErrorReason, traitsOf, type ErrorDetail } from '@hospital/proto';
import { BrokerClientError, toClientError } from '../errors';

/** An answer on a pipelined stream (ProduceStreamResponse, FetchStreamResponse). */
export interface PipelinedAnswer<Response> {
  correlationId: number;
  result:
    { $case: 'response'; value: Response } | { $case: 'error'; value: ErrorDetail } | undefined;
}

/** How requests are written on one kind of pipelined stream. */
export interface PipelinedMessages<Request, Outgoing> {
  request(correlationId: number, request: Request): Outgoing;
  /** Withdraws a request; without it an aborted request's answer is just dropped. */
  cancel?(correlationId: number): Outgoing;
}

interface Waiting<Response> {
  resolve(response: Response): void;
  reject(error: BrokerClientError): void;
  timer: NodeJS.Timeout;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/** The failure a unary call would have ended with, rebuilt from an answer's detail. */
export function errorFromDetail(detail: ErrorDetail): BrokerClientError {
  return new BrokerClientError(
    detail.message,
    detail.reason,
    traitsOf(detail.reason).code,
    detail.retriable,
    detail.metadata,
  );
}

const unavailable = (message: string) =>
  new BrokerClientError(message, ErrorReason.ERROR_REASON_UNSPECIFIED, status.UNAVAILABLE, true);

/**
 * Requests pipelined over one long-lived stream, as a Kafka client pipelines
 * requests on its connection: each carries a correlation id and its answer
 * settles it, in whatever order answers come, with no HTTP/2 stream set up
 * per request. The stream opens on the first request and again after it
 * ends; when it breaks, every request on it fails retriable (UNAVAILABLE),
 * as a unary call would. A broker without the method (UNIMPLEMENTED) sets
 * `unsupported`, and the caller goes back to the unary call.
 */
export class PipelinedChannel<Request, Response, Outgoing> {
  private stream: ClientDuplexStream<Outgoing, PipelinedAnswer<Response>> | undefined;
  private readonly waiting = new Map<number, Waiting<Response>>();
  private nextId = 1;
  unsupported = false;

  constructor(
    private readonly name: string,
    private readonly open: () => ClientDuplexStream<Outgoing, PipelinedAnswer<Response>>,
    private readonly messages: PipelinedMessages<Request, Outgoing>,
  ) {}

  call(request: Request, timeoutMs: number, signal?: AbortSignal): Promise<Response> {
    const stream = (this.stream ??= this.start());
    const correlationId = this.nextId++;
    return new Promise((resolve, reject) => {
      const settle = (error: BrokerClientError) => {
        if (this.take(correlationId)) reject(error);
      };
      const timer = setTimeout(
        () =>
          settle(
            new BrokerClientError(
              `no answer to ${this.name} within ${timeoutMs} ms`,
              ErrorReason.ERROR_REASON_UNSPECIFIED,
              status.DEADLINE_EXCEEDED,
              true,
            ),
          ),
        timeoutMs,
      );
      const onAbort = () => {
        if (this.messages.cancel && this.stream === stream)
          stream.write(this.messages.cancel(correlationId));
        settle(
          new BrokerClientError(
            `${this.name} cancelled`,
            ErrorReason.ERROR_REASON_UNSPECIFIED,
            status.CANCELLED,
            true,
          ),
        );
      };
      this.waiting.set(correlationId, { resolve, reject, timer, signal, onAbort });
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      stream.write(this.messages.request(correlationId, request));
    });
  }

  close(): void {
    this.stream?.end();
  }

  /** Removes a waiter and what it holds (timer, abort listener); undefined when already settled. */
  private take(correlationId: number): Waiting<Response> | undefined {
    const waiter = this.waiting.get(correlationId);
    if (!waiter) return undefined;
    this.waiting.delete(correlationId);
    clearTimeout(waiter.timer);
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    return waiter;
  }

  private start(): ClientDuplexStream<Outgoing, PipelinedAnswer<Response>> {
    const stream = this.open();
    stream.on('data', (answer: PipelinedAnswer<Response>) => {
      const waiter = this.take(answer.correlationId);
      if (!waiter) return; // timed out or withdrawn already
      if (answer.result?.$case === 'response') waiter.resolve(answer.result.value);
      else if (answer.result?.$case === 'error')
        waiter.reject(errorFromDetail(answer.result.value));
      else waiter.reject(unavailable(`the broker answered a ${this.name} request with nothing`));
    });
    const broken = (error?: unknown) => {
      if (this.stream === stream) this.stream = undefined;
      const failure =
        error === undefined
          ? unavailable(`the broker ended the ${this.name}`)
          : toClientError(error);
      if (failure.code === status.UNIMPLEMENTED) this.unsupported = true;
      for (const id of [...this.waiting.keys()]) this.take(id)?.reject(failure);
    };
    stream.on('error', broken);
    stream.on('end', () => broken());
    return stream;
  }
}
