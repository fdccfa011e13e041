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
  type WatchMembershipRequest,
  type WatchMembershipResponse,
} from '@hospital/proto';
import { toClientError } from '../errors';

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
  }

  call<K extends UnaryMethod>(
    method: K,
    request: RequestOf<K>,
    callOptions: { timeoutMs?: number; admin?: boolean; signal?: AbortSignal } = {},
  ): Promise<ResponseOf<K>> {
    const definition = BrokerService[method];
    const metadata = new Metadata();
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
    this.client.close();
  }
}
