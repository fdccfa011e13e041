/** Housekeeping's settings, from the environment. */
export interface HousekeepingConfig {
  host: string;
  port: number;
  broker: string;
  deadLetterTopic: string;
  groupId: string;
  /** HOUSEKEEPING_DATABASE_URL: the housekeeping role's connection (it can reach schema housekeeping only). */
  databaseUrl: string;
  groupInstanceId?: string;
  logLevel: string;
}

export function loadHousekeepingConfig(env: NodeJS.ProcessEnv = process.env): HousekeepingConfig {
  const databaseUrl = env.HOUSEKEEPING_DATABASE_URL;
  if (!databaseUrl)
    throw new Error(
      'HOUSEKEEPING_DATABASE_URL is required (the housekeeping role, schema housekeeping)',
    );
  const port = Number(env.HOUSEKEEPING_PORT ?? 3002);
  if (!Number.isInteger(port) || port < 0)
    throw new Error(`HOUSEKEEPING_PORT must be a port number, got "${env.HOUSEKEEPING_PORT}"`);
  return {
    host: env.HOUSEKEEPING_HOST ?? '127.0.0.1',
    port,
    broker: env.BROKER_ADDRESS ?? '127.0.0.1:9092',
    deadLetterTopic: env.DEAD_LETTER_TOPIC ?? 'patient.checkout.dlq',
    groupId: env.GROUP_ID ?? 'housekeeping',
    databaseUrl,
    groupInstanceId: env.GROUP_INSTANCE_ID || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
