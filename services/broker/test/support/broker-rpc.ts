import { credentials, Metadata, type ChannelOptions, type ServiceError } from '@grpc/grpc-js';
import { readPartition } from '@hospital/testing';
import {
  Acks,
  BrokerClient,
  BrokerService,
  encodeRecordBatch,
  readErrorDetail,
  type ErrorDetail,
  type IncomingRecord,
  type OutgoingRecord,
  type RecordBatch,
} from '@hospital/proto';

type Service = typeof BrokerService;
/** RPC names whose calls are unary (everything but the server streams). */
type UnaryMethod = {
  [K in keyof Service]: Service[K]['responseStream'] extends false ? K : never;
}[keyof Service];
type RequestOf<K extends UnaryMethod> = Parameters<Service[K]['requestSerialize']>[0];
type ResponseOf<K extends UnaryMethod> = ReturnType<Service[K]['responseDeserialize']>;

/** A typed, promise-returning client for tests that speak raw gRPC to the broker. */
export class BrokerRpc {
  readonly client: BrokerClient;

  constructor(address: string, options: ChannelOptions = {}) {
    this.client = new BrokerClient(address, credentials.createInsecure(), options);
  }

  call<K extends UnaryMethod>(
    method: K,
    request: RequestOf<K>,
    metadata = new Metadata(),
  ): Promise<ResponseOf<K>> {
    const definition = BrokerService[method];
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        definition.path,
        (value: RequestOf<K>) =>
          (definition.requestSerialize as (value: RequestOf<K>) => Buffer)(value),
        (bytes: Buffer) => definition.responseDeserialize(bytes) as ResponseOf<K>,
        request,
        metadata,
        (error: ServiceError | null, response?: ResponseOf<K>) =>
          error ? reject(error) : resolve(response as ResponseOf<K>),
      );
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Every record of one partition from `from`, fetched as a consumer would, in several calls. */
export function readAll(
  rpc: BrokerRpc,
  topic: string,
  partition: number,
  from = 0,
): Promise<IncomingRecord[]> {
  return readPartition(async (offset) => {
    const response = await rpc.call('fetch', {
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      topics: [
        { name: topic, partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 0 }] },
      ],
    });
    return response.topics[0].partitions[0].batches;
  }, from);
}

/** The status and decoded reason of a failed call. */
export async function failureOf(
  work: Promise<unknown>,
): Promise<{ code: number; message: string; detail: ErrorDetail | undefined }> {
  try {
    await work;
  } catch (error) {
    const failure = error as ServiceError;
    return {
      code: failure.code,
      message: failure.details,
      detail: readErrorDetail(failure.metadata),
    };
  }
  throw new Error('expected the call to fail');
}

export function batchOf(records: OutgoingRecord[]): RecordBatch {
  return encodeRecordBatch(records, { producerId: 'test' });
}

/** Appends `count` records ("r0", "r1", …) to each of the topic's first `partitions` partitions, acks=all. */
export async function produceToEachPartition(
  rpc: BrokerRpc,
  topic: string,
  partitions: number,
  count: number,
): Promise<void> {
  for (let partition = 0; partition < partitions; partition++)
    await rpc.call('produce', {
      acks: Acks.ACKS_ALL,
      timeoutMs: 5_000,
      topics: [
        {
          name: topic,
          partitions: [
            {
              partition,
              batch: batchOf(Array.from({ length: count }, (_, i) => ({ value: `r${i}` }))),
            },
          ],
        },
      ],
    });
}

export function adminMetadata(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}
