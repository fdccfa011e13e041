/** Pharmacy's settings, from the environment. */
export interface PharmacyConfig {
  host: string;
  port: number;
  broker: string;
  deadLetterTopic: string;
  groupId: string;
  /** PHARMACY_DATABASE_URL: the pharmacy role's connection (it can reach schema pharmacy only). */
  databaseUrl: string;
  groupInstanceId?: string;
  logLevel: string;
}

export function loadPharmacyConfig(env: NodeJS.ProcessEnv = process.env): PharmacyConfig {
  const databaseUrl = env.PHARMACY_DATABASE_URL;
  if (!databaseUrl)
    throw new Error('PHARMACY_DATABASE_URL is required (the pharmacy role, schema pharmacy)');
  const port = Number(env.PHARMACY_PORT ?? 3003);
  if (!Number.isInteger(port) || port < 0)
    throw new Error(`PHARMACY_PORT must be a port number, got "${env.PHARMACY_PORT}"`);
  return {
    host: env.PHARMACY_HOST ?? '127.0.0.1',
    port,
    broker: env.BROKER_ADDRESS ?? '127.0.0.1:9092',
    deadLetterTopic: env.DEAD_LETTER_TOPIC ?? 'patient.checkout.dlq',
    groupId: env.GROUP_ID ?? 'pharmacy',
    databaseUrl,
    groupInstanceId: env.GROUP_INSTANCE_ID || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
