import type { Logger } from 'pino';
import type { Broker } from '../../broker';
import type { KafkaReader } from '../protocol/kafka-reader';
import type { KafkaWriter } from '../protocol/kafka-writer';

/** Kafka's API keys that this listener serves. */
export enum ApiKey {
  Produce = 0,
  Fetch = 1,
  ListOffsets = 2,
  Metadata = 3,
  OffsetCommit = 8,
  OffsetFetch = 9,
  FindCoordinator = 10,
  JoinGroup = 11,
  Heartbeat = 12,
  LeaveGroup = 13,
  SyncGroup = 14,
  DescribeGroups = 15,
  ListGroups = 16,
  SaslHandshake = 17,
  ApiVersions = 18,
  CreateTopics = 19,
  DeleteTopics = 20,
  SaslAuthenticate = 36,
  CreatePartitions = 37,
  DeleteGroups = 42,
}

/** What a connection knows about its client. */
export interface KafkaSession {
  readonly clientId: string;
  readonly host: string;
  /** Set once SASL/PLAIN succeeded with the admin token: admin operations are allowed. */
  admin: boolean;
  /** SASL/PLAIN's handshake came first, as Kafka requires. */
  saslMechanism: string | undefined;
  /** Set when the connection must close after its response (a failed authentication). */
  closeAfterResponse: boolean;
  /** Aborted when the connection closes: a long-polling Fetch returns at once. */
  readonly closed: AbortSignal;
}

export interface KafkaContext {
  readonly broker: Broker;
  readonly session: KafkaSession;
  /** The host and port clients are told to connect to (Metadata, FindCoordinator). */
  readonly advertised: { host: string; port: number };
  readonly logger: Logger;
}

/** Writes a response body; undefined means no response at all (Produce with acks=0). */
export type ResponseBody = ((out: KafkaWriter) => void) | undefined;

/** One Kafka API: its key, the versions served, and its handler over the broker. */
export interface KafkaApi {
  readonly key: ApiKey;
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * The first flexible version (KIP-482), when one is served: from it the
   * request header and body carry tagged fields and compact lengths, and so
   * does the answer (its header too, but for ApiVersions).
   */
  readonly flexibleFrom?: number;
  /** Decodes the request body, runs it and returns how to write the answer. */
  handle(
    input: KafkaReader,
    version: number,
    context: KafkaContext,
  ): ResponseBody | Promise<ResponseBody>;
}

/** Whether a version of an API that this listener serves is a flexible one. */
export function isFlexible(api: KafkaApi, version: number): boolean {
  return api.flexibleFrom !== undefined && version >= api.flexibleFrom && version <= api.maxVersion;
}

/** Kafka's throttle_time_ms: this broker never throttles. */
export const NO_THROTTLE = 0;
