import { ASSIGNORS } from '@hospital/broker-client';
import { kafkaJsRefusal, loadBrokerSettings, type BrokerSettings } from '@hospital/nest-broker';
import { hostname } from 'node:os';

/** A consumer service's settings, read the same way for billing, housekeeping and pharmacy. */
export interface ConsumerServiceConfig extends BrokerSettings {
  /** The service's name: its schema, its default group id, and the prefix of its variables. */
  service: string;
  /** <SERVICE>_HOST / <SERVICE>_PORT: the HTTP listener (read API, /health, /metrics). */
  host: string;
  port: number;
  /** CHECKOUT_TOPIC (default patient.checkout). */
  topic: string;
  /** DEAD_LETTER_TOPIC (default patient.checkout.dlq). */
  deadLetterTopic: string;
  /** GROUP_ID (default: the service's name). */
  groupId: string;
  /** GROUP_INSTANCE_ID: static membership, so a restart within the session timeout keeps its partitions. */
  groupInstanceId?: string;
  /** GROUP_ASSIGNORS: assignor names in order of preference, comma-separated (default range). The group uses the first every member lists. */
  assignors: string[];
  /** CLIENT_ID: how the broker lists this replica among the group's members (default: the instance id, else <group>-<host>-<pid>, unique per container and process). */
  clientId: string;
  /** <SERVICE>_DATABASE_URL (required): the service role's connection; it reaches its own schema only. */
  databaseUrl: string;
  /** SESSION_TIMEOUT_MS: how long the group waits for a silent member (default 10,000, as KafkaJS). */
  sessionTimeoutMs: number;
  /** HEARTBEAT_INTERVAL_MS (default 3,000, a third of the session timeout at most). */
  heartbeatIntervalMs: number;
  /** PARTITIONS_CONSUMED_CONCURRENTLY: partitions whose batches are written at once, each in its own transaction (default 4). */
  partitionsConsumedConcurrently: number;
  /** LOG_LEVEL (default info). */
  logLevel: string;
}

/** The assignors our consumer ships, as Kafka names them. */
const ASSIGNOR_NAMES = Object.keys(ASSIGNORS);

function assignorList(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return ['range'];
  const names = raw.split(',').map((name) => name.trim());
  for (const name of names)
    if (!ASSIGNOR_NAMES.includes(name))
      throw new Error(
        `GROUP_ASSIGNORS names an unknown assignor "${name}"; choose from ${ASSIGNOR_NAMES.join(', ')}`,
      );
  return names;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

/** Reads a consumer service's settings from the environment; a bad value throws naming the variable. */
export function loadConsumerServiceConfig(
  service: string,
  defaultPort: number,
  env: NodeJS.ProcessEnv = process.env,
): ConsumerServiceConfig {
  const prefix = service.toUpperCase();
  const databaseUrl = env[`${prefix}_DATABASE_URL`];
  if (!databaseUrl)
    throw new Error(`${prefix}_DATABASE_URL is required (the ${service} role, schema ${service})`);
  const sessionTimeoutMs = integer(env, 'SESSION_TIMEOUT_MS', 10_000, 1);
  const broker = loadBrokerSettings(env);
  const assignors = assignorList(env.GROUP_ASSIGNORS);
  const groupInstanceId = env.GROUP_INSTANCE_ID || undefined;
  // Said at start, before migrations, not at the first join.
  const refusal = broker.protocol === 'kafka' && kafkaJsRefusal({ assignors, groupInstanceId });
  if (refusal) throw new Error(refusal);
  return {
    service,
    host: env[`${prefix}_HOST`] ?? '127.0.0.1',
    port: integer(env, `${prefix}_PORT`, defaultPort, 0),
    ...broker,
    topic: env.CHECKOUT_TOPIC ?? 'patient.checkout',
    deadLetterTopic: env.DEAD_LETTER_TOPIC ?? 'patient.checkout.dlq',
    groupId: env.GROUP_ID ?? service,
    groupInstanceId,
    assignors,
    clientId:
      env.CLIENT_ID ||
      env.GROUP_INSTANCE_ID ||
      `${env.GROUP_ID ?? service}-${hostname()}-${process.pid}`,
    databaseUrl,
    sessionTimeoutMs,
    heartbeatIntervalMs: integer(
      env,
      'HEARTBEAT_INTERVAL_MS',
      Math.min(3_000, Math.floor(sessionTimeoutMs / 3)),
      1,
    ),
    partitionsConsumedConcurrently: integer(env, 'PARTITIONS_CONSUMED_CONCURRENTLY', 4, 1),
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
