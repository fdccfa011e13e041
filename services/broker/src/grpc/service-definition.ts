import type { ServiceDefinition } from '@grpc/grpc-js';
import { BrokerService, internal } from '@hospital/proto';
import { tolerantDecoder } from './malformed-request';

export const BROKER_PACKAGE = 'hospital.broker.v1';
export const BROKER_SERVICE = 'Broker';

/**
 * The generated service definition with the two record-carrying messages
 * swapped for their broker-side views: Produce requests arrive with each
 * batch as raw bytes, and Fetch answers go out with stored batches as they
 * are on disk. Same wire format, no per-record work. A request that does
 * not decode reaches the handlers as a MalformedRequest (see there); so
 * does a ProduceStream message, each holding a Produce request view, and
 * FetchStream answers go out as views too.
 */
export function brokerServiceDefinition(): ServiceDefinition {
  const methods = Object.fromEntries(
    Object.entries(BrokerService as Record<string, GrpcMethod>).map(([name, method]) => [
      name,
      {
        ...method,
        requestDeserialize: tolerantDecoder(requestType(method.path), method.requestDeserialize),
      },
    ]),
  );
  return {
    ...methods,
    produce: {
      ...methods.produce,
      requestDeserialize: tolerantDecoder(requestType(BrokerService.produce.path), (bytes) =>
        internal.ProduceRequestView.decode(bytes),
      ),
    },
    produceStream: {
      ...methods.produceStream,
      requestDeserialize: tolerantDecoder(`${BROKER_PACKAGE}.ProduceStreamRequest`, (bytes) =>
        internal.ProduceStreamRequestView.decode(bytes),
      ),
    },
    fetchStream: {
      ...methods.fetchStream,
      responseSerialize: (value: internal.FetchStreamResponseView) =>
        Buffer.from(internal.FetchStreamResponseView.encode(value).finish()),
    },
    fetch: {
      ...methods.fetch,
      responseSerialize: (value: internal.FetchResponseView) =>
        Buffer.from(internal.FetchResponseView.encode(value).finish()),
    },
  } as unknown as ServiceDefinition;
}

/** The parts of a generated method definition this file touches. */
interface GrpcMethod {
  path: string;
  requestDeserialize(bytes: Buffer): unknown;
}

/** "/hospital.broker.v1.Broker/Produce" → "hospital.broker.v1.ProduceRequest". */
function requestType(path: string): string {
  return `${BROKER_PACKAGE}.${path.slice(path.lastIndexOf('/') + 1)}Request`;
}

/** A grpc-js package definition NestJS can load instead of a .proto file. */
export function brokerPackageDefinition(): { [name: string]: ServiceDefinition } {
  return { [`${BROKER_PACKAGE}.${BROKER_SERVICE}`]: brokerServiceDefinition() };
}
