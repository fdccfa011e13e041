import { resolve } from 'node:path';
import {
  DURABILITY_LEVELS,
  RENAMED_DURABILITY_LEVELS,
  type DurabilityLevel,
} from '../storage/durability';

/** Everything the broker reads from its environment, with defaults. */
export interface BrokerConfig {
  /** BROKER_HOST: interface for gRPC (default 127.0.0.1; 0.0.0.0 in containers). */
  host: string;
  /** BROKER_PORT: gRPC port (default 9092). */
  port: number;
  /** BROKER_KAFKA_PORT: the Kafka wire-protocol listener on BROKER_HOST (unset: off; 0 picks a free port; the demo and compose use 9093). */
  kafkaPort: number | undefined;
  /** BROKER_HTTP_HOST / BROKER_HTTP_PORT: admin HTTP — dashboard, its JSON and live events, /health, /metrics (defaults BROKER_HOST and 8080; 0 picks a free port). */
  httpHost: string;
  httpPort: number;
  /** BROKER_CONTROL_URL: the process supervisor (`hospital demo`) behind the dashboard's scale, kill and restart buttons; unset means no buttons. */
  controlUrl: string | undefined;
  /** BROKER_DATA_DIR: where logs live (default ./.data/broker). */
  dataDir: string;
  /** BROKER_DURABILITY: fsync | os (default fsync), named by what an acknowledgement promises. */
  durability: DurabilityLevel;
  /** BROKER_FSYNC_MIN_INTERVAL_MS: at `fsync`, the least time between two fsyncs of a partition (default 0). */
  fsyncMinIntervalMs: number;
  /** BROKER_FLUSH_INTERVAL_MS: at `os`, how often the background flush fsyncs (default 1000). */
  flushIntervalMs: number;
  /** BROKER_SEGMENT_BYTES (default 64 MiB). */
  segmentBytes: number;
  /** BROKER_INDEX_INTERVAL_BYTES (default 4096). */
  indexIntervalBytes: number;
  /** BROKER_RETENTION_MS: default topic retention (default 7 days; -1 forever). */
  retentionMs: number;
  /** BROKER_RETENTION_BYTES: default per-partition size limit (default -1, none). */
  retentionBytes: number;
  /** BROKER_RETENTION_CHECK_MS: how often retention runs (default 60000). */
  retentionCheckMs: number;
  /** BROKER_MAX_BATCH_BYTES: largest accepted record batch (default 1 MiB). */
  maxBatchBytes: number;
  /** BROKER_MAX_REQUEST_BYTES: largest gRPC message either way (default 16 MiB). */
  maxRequestBytes: number;
  /** BROKER_KAFKA_MAX_QUEUED_BYTES: Kafka request bytes held across all connections before they stop being read (default 128 MiB; Kafka's queued.max.request.bytes). */
  kafkaMaxQueuedBytes: number;
  /** BROKER_MAX_PARTITIONS: most partitions per topic (default 1000). */
  maxPartitions: number;
  /** BROKER_MAX_WAIT_MS: cap on a Fetch long poll and a Produce timeout (default 30000). */
  maxWaitMs: number;
  /** BROKER_TOPICS: topics created on start when missing, name:partitions, comma separated (default patient.checkout:4). */
  initialTopics: { name: string; partitions: number }[];
  /** BROKER_ADMIN_TOKEN: bearer token for admin operations; unset means admin operations are refused. */
  adminToken: string | undefined;
  /** BROKER_TLS_CERT_FILE and BROKER_TLS_KEY_FILE: serve TLS when both are set. */
  tls: { certFile: string; keyFile: string } | undefined;
  /** BROKER_ADVERTISED_HOST: host FindCoordinator tells clients (default BROKER_HOST, or 127.0.0.1 for 0.0.0.0). */
  advertisedHost: string;
  /** BROKER_KAFKA_ADVERTISED_HOST: host the Kafka listener's Metadata and FindCoordinator name (default BROKER_ADVERTISED_HOST), as Kafka's advertised.listeners. */
  kafkaAdvertisedHost: string;
  /** BROKER_OFFSETS_PARTITIONS: partitions of __consumer_offsets when first created (default 8). */
  offsetsPartitions: number;
  /** BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: wait after the first member joins an empty group (default 500). */
  groupInitialRebalanceDelayMs: number;
  /** BROKER_GROUP_MIN_SESSION_TIMEOUT_MS / BROKER_GROUP_MAX_SESSION_TIMEOUT_MS (defaults 500 and 300000). */
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  /** BROKER_GROUP_MAX_SIZE: most members per group (default 1000). */
  groupMaxSize: number;
  /**
   * BROKER_OFFSETS_RETENTION_MS: an Empty group whose last commit (and
   * emptying) is older than this is deleted, offsets and all (default 7 days,
   * Kafka's offsets.retention.minutes).
   */
  offsetsRetentionMs: number;
  /** BROKER_OFFSETS_RETENTION_CHECK_MS: how often expired groups are looked for (default 10 min). */
  offsetsRetentionCheckMs: number;
  /** BROKER_OFFSETS_SEGMENT_BYTES: segment size of __consumer_offsets; the cleaner compacts closed ones (default 4 MiB). */
  offsetsSegmentBytes: number;
  /** BROKER_LOG_CLEANER_INTERVAL_MS: how often the cleaner looks for compacted partitions to clean (default 15 s). */
  logCleanerIntervalMs: number;
  /** BROKER_DELETE_RETENTION_MS: how long a cleaned tombstone stays, so readers see the delete (default 1 day). */
  deleteRetentionMs: number;
  /** LOG_LEVEL (default info). */
  logLevel: string;
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function topics(raw: string): { name: string; partitions: number }[] {
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const [name, partitions] = entry.split(':');
      const count = Number(partitions ?? '1');
      if (!name || !Number.isInteger(count) || count < 1) {
        throw new ConfigError(`BROKER_TOPICS entries look like name:partitions, got "${entry}"`);
      }
      return { name, partitions: count };
    });
}

function controlUrl(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`BROKER_CONTROL_URL must be an http:// URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`BROKER_CONTROL_URL must be an http:// URL, got "${raw}"`);
  return url.origin;
}

export function loadBrokerConfig(env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  const durability = (env.BROKER_DURABILITY ?? 'fsync') as DurabilityLevel;
  const renamed = RENAMED_DURABILITY_LEVELS[durability];
  if (renamed) {
    throw new ConfigError(
      `BROKER_DURABILITY=${durability} was renamed by what it promises: use ${renamed}`,
    );
  }
  if (!DURABILITY_LEVELS.includes(durability)) {
    throw new ConfigError(
      `BROKER_DURABILITY must be one of ${DURABILITY_LEVELS.join(', ')}, got "${durability}"`,
    );
  }
  const advertisedHost =
    env.BROKER_ADVERTISED_HOST ??
    (!env.BROKER_HOST || env.BROKER_HOST === '0.0.0.0' ? '127.0.0.1' : env.BROKER_HOST);
  const certFile = env.BROKER_TLS_CERT_FILE;
  const keyFile = env.BROKER_TLS_KEY_FILE;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new ConfigError('BROKER_TLS_CERT_FILE and BROKER_TLS_KEY_FILE must be set together');
  }
  return {
    host: env.BROKER_HOST ?? '127.0.0.1',
    port: integer(env, 'BROKER_PORT', 9092, 0),
    kafkaPort:
      env.BROKER_KAFKA_PORT === undefined || env.BROKER_KAFKA_PORT === ''
        ? undefined
        : integer(env, 'BROKER_KAFKA_PORT', 0, 0),
    httpHost: env.BROKER_HTTP_HOST ?? env.BROKER_HOST ?? '127.0.0.1',
    httpPort: integer(env, 'BROKER_HTTP_PORT', 8080, 0),
    controlUrl: controlUrl(env.BROKER_CONTROL_URL),
    dataDir: resolve(env.BROKER_DATA_DIR ?? '.data/broker'),
    durability,
    fsyncMinIntervalMs: integer(env, 'BROKER_FSYNC_MIN_INTERVAL_MS', 0, 0),
    flushIntervalMs: integer(env, 'BROKER_FLUSH_INTERVAL_MS', 1_000, 1),
    segmentBytes: integer(env, 'BROKER_SEGMENT_BYTES', 64 * 1024 * 1024, 1024),
    indexIntervalBytes: integer(env, 'BROKER_INDEX_INTERVAL_BYTES', 4096, 64),
    retentionMs: integer(env, 'BROKER_RETENTION_MS', 7 * 24 * 3_600_000, -1),
    retentionBytes: integer(env, 'BROKER_RETENTION_BYTES', -1, -1),
    retentionCheckMs: integer(env, 'BROKER_RETENTION_CHECK_MS', 60_000, 100),
    maxBatchBytes: integer(env, 'BROKER_MAX_BATCH_BYTES', 1024 * 1024, 64),
    maxRequestBytes: integer(env, 'BROKER_MAX_REQUEST_BYTES', 16 * 1024 * 1024, 1024),
    kafkaMaxQueuedBytes: integer(env, 'BROKER_KAFKA_MAX_QUEUED_BYTES', 128 * 1024 * 1024, 1024),
    maxPartitions: integer(env, 'BROKER_MAX_PARTITIONS', 1000, 1),
    maxWaitMs: integer(env, 'BROKER_MAX_WAIT_MS', 30_000, 0),
    initialTopics: topics(env.BROKER_TOPICS ?? 'patient.checkout:4'),
    adminToken: env.BROKER_ADMIN_TOKEN || undefined,
    tls: certFile && keyFile ? { certFile, keyFile } : undefined,
    advertisedHost,
    kafkaAdvertisedHost: env.BROKER_KAFKA_ADVERTISED_HOST || advertisedHost,
    offsetsPartitions: integer(env, 'BROKER_OFFSETS_PARTITIONS', 8, 1),
    groupInitialRebalanceDelayMs: integer(env, 'BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS', 500, 0),
    groupMinSessionTimeoutMs: integer(env, 'BROKER_GROUP_MIN_SESSION_TIMEOUT_MS', 500, 1),
    groupMaxSessionTimeoutMs: integer(env, 'BROKER_GROUP_MAX_SESSION_TIMEOUT_MS', 300_000, 1),
    groupMaxSize: integer(env, 'BROKER_GROUP_MAX_SIZE', 1000, 1),
    offsetsRetentionMs: integer(env, 'BROKER_OFFSETS_RETENTION_MS', 7 * 24 * 3_600_000, 1),
    offsetsRetentionCheckMs: integer(env, 'BROKER_OFFSETS_RETENTION_CHECK_MS', 600_000, 100),
    offsetsSegmentBytes: integer(env, 'BROKER_OFFSETS_SEGMENT_BYTES', 4 * 1024 * 1024, 1024),
    logCleanerIntervalMs: integer(env, 'BROKER_LOG_CLEANER_INTERVAL_MS', 15_000, 10),
    deleteRetentionMs: integer(env, 'BROKER_DELETE_RETENTION_MS', 24 * 3_600_000, 0),
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
