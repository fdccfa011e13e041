import {
  credentials,
  Metadata,
  type ChannelCredentials,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  BrokerClient,
  BrokerService,
  type FetchRequest,
  type FetchResponse,
  type FetchStreamRequest,
  type ProduceRequest,
  type ProduceResponse,
  type ProduceStreamRequest,
  type WatchMembershipRequest,
  type WatchMembershipResponse,
} from '@hospital/proto';
import { toClientError } from '../errors';
import { PipelinedChannel } from './pipelined-channel';

type Service = typeof BrokerService;
export type UnaryMethod = {
  [K in keyof Service]: Service[K]['responseStream'] extends false ? K : never;
}[keyof Service];
export type RequestOf<K extends UnaryMethod> = Parameters<Service[K]['requestSerialize']>[0];
export type ResponseOf<K extends UnaryMethod> = ReturnType<Service[K]['responseDeserialize']>;

export interface ConnectionOptions {
  /** host:port of the broker. */
  broker: string;
  clientId?: string;
  /** Trust these CA certificates and speak TLS. */
  tls?: { ca?: Buffer };
  /** Sent as `authorization: Bearer <token>` on admin calls. */
  adminToken?: string;
  /** Deadline of an ordinary call (long polls add their own wait). */
  requestTimeoutMs?: number;
}

/** One gRPC channel to the broker, with typed promise calls whose failures are BrokerClientErrors. */
export class BrokerConnection {
  readonly client: BrokerClient;
  readonly clientId: string;
  private readonly requestTimeoutMs: number;
  private readonly produceStream: PipelinedChannel<
    ProduceRequest,
    ProduceResponse,
    ProduceStreamRequest
  >;
  private readonly fetchStream: PipelinedChannel<FetchRequest, FetchResponse, FetchStreamRequest>;

  constructor(readonly options: ConnectionOptions) {
    const channelCredentials: ChannelCredentials = options.tls
      ? credentials.createSsl(options.tls.ca ?? null)
      : credentials.createInsecure();
    this.client = new BrokerClient(options.broker, channelCredentials, {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
      'grpc.keepalive_time_ms': 30_000,
    });
    this.clientId = options.clientId ?? 'hospital-client';
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.produceStream = new PipelinedChannel<
      ProduceRequest,
      ProduceResponse,
      ProduceStreamRequest
    >('ProduceStream', () => this.client.produceStream(this.identity()), {
      request: (correlationId, request) => ({ correlationId, request }),
    });
    this.fetchStream = new PipelinedChannel<FetchRequest, FetchResponse, FetchStreamRequest>(
      'FetchStream',
      () => this.client.fetchStream(this.identity()),
      {
        request: (correlationId, request) => ({ correlationId, request, cancel: false }),
        cancel: (correlationId) => ({ correlationId, request: undefined, cancel: true }),
      },
    );
  }

  /**
   * A Produce, pipelined on the connection's ProduceStream (no per-request
   * HTTP/2 stream), or unary where the broker has no ProduceStream.
   */
  produce(request: ProduceRequest, options: { timeoutMs?: number } = {}): Promise<ProduceResponse> {
    return this.pipelined(this.produceStream, request, options, () =>
      this.call('produce', request, options),
    );
  }

  /** A Fetch (long poll), pipelined on the connection's FetchStream, or unary where the broker has none. */
  fetch(
    request: FetchRequest,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<FetchResponse> {
    return this.pipelined(this.fetchStream, request, options, () =>
      this.call('fetch', request, options),
    );
  }

  private async pipelined<Request, Response, Outgoing>(
    channel: PipelinedChannel<Request, Response, Outgoing>,
    request: Request,
    options: { timeoutMs?: number; signal?: AbortSignal },
    unary: () => Promise<Response>,
  ): Promise<Response> {
    if (!channel.unsupported) {
      try {
        return await channel.call(
          request,
          options.timeoutMs ?? this.requestTimeoutMs,
          options.signal,
        );
      } catch (error) {
        if (!channel.unsupported) throw error;
      }
    }
    return unary();
  }

  /** Kafka's client.id header: the broker names this client by it (the rebalance trace's first fetch). */
  private identity(): Metadata {
    const metadata = new Metadata();
    metadata.set('client-id', this.clientId);
    return metadata;
  }

  call<K extends UnaryMethod>(
    method: K,
    request: RequestOf<K>,
    callOptions: { timeoutMs?: number; admin?: boolean; signal?: AbortSignal } = {},
  ): Promise<ResponseOf<K>> {
    const definition = BrokerService[method];
    const metadata = this.identity();
    if (callOptions.admin && this.options.adminToken)
      metadata.set('authorization', `Bearer ${this.options.adminToken}`);
    const deadline = Date.now() + (callOptions.timeoutMs ?? this.requestTimeoutMs);
    const { signal } = callOptions;
    return new Promise((resolve, reject) => {
      // The signal may outlive many calls (a consumer's), so each call takes its listener back.
      const cancel = () => call.cancel();
      const call = this.client.makeUnaryRequest(
        definition.path,
        (value: RequestOf<K>) =>
          (definition.requestSerialize as (value: RequestOf<K>) => Buffer)(value),
        (bytes: Buffer) => definition.responseDeserialize(bytes) as ResponseOf<K>,
        request,
        metadata,
        { deadline },
        (error: ServiceError | null, response?: ResponseOf<K>) => {
          signal?.removeEventListener('abort', cancel);
          if (error) reject(toClientError(error));
          else resolve(response as ResponseOf<K>);
        },
      );
      if (signal?.aborted) call.cancel();
      else signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  watchMembership(request: WatchMembershipRequest): ClientReadableStream<WatchMembershipResponse> {
    return this.client.watchMembership(request);
  }

  close(): void {
    this.produceStream.close();
    this.fetchStream.close();
    this.client.close();
  }
}
