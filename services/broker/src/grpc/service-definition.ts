import type { ServiceDefinition } from '@grpc/grpc-js';
import { BrokerService, internal } from '@hospital/proto';

export const BROKER_PACKAGE = 'hospital.broker.v1';
export const BROKER_SERVICE = 'Broker';

/**
 * The generated service definition with the two record-carrying messages
 * swapped for their broker-side views: Produce requests arrive with each
 * batch as raw bytes, and Fetch answers go out with stored batches as they
 * are on disk. Same wire format, no per-record work.
 */
export function brokerServiceDefinition(): ServiceDefinition {
  return {
    ...BrokerService,
    produce: {
      ...BrokerService.produce,
      requestDeserialize: (bytes: Buffer) => internal.ProduceRequestView.decode(bytes),
    },
    fetch: {
      ...BrokerService.fetch,
      responseSerialize: (value: internal.FetchResponseView) =>
        Buffer.from(internal.FetchResponseView.encode(value).finish()),
    },
  } as unknown as ServiceDefinition;
}

/** A grpc-js package definition NestJS can load instead of a .proto file. */
export function brokerPackageDefinition(): { [name: string]: ServiceDefinition } {
  return { [`${BROKER_PACKAGE}.${BROKER_SERVICE}`]: brokerServiceDefinition() };
}
