import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  BrokerClient,
  encodeRecordBatch,
  readErrorDetail,
  type ErrorDetail,
  type OutgoingRecord,
  type RecordBatch,
} from '@hospital/proto';

type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/** A promise-returning view of the generated client, for tests that speak raw gRPC. */
export class BrokerRpc {
  readonly client: BrokerClient;

  constructor(address: string) {
    this.client = new BrokerClient(address, credentials.createInsecure());
  }

  call<Req, Res>(method: Unary<Req, Res>, request: Req, metadata = new Metadata()): Promise<Res> {
    return new Promise((resolve, reject) => {
      method.call(this.client, request, metadata, (error, response) =>
        error ? reject(error) : resolve(response),
      );
    });
  }

  close(): void {
    this.client.close();
  }
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

export function adminMetadata(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}
