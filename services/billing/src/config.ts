/** Billing's settings, from the environment. */
export interface BillingConfig {
  host: string;
  port: number;
  broker: string;
  topic: string;
  deadLetterTopic: string;
  groupId: string;
  /** BILLING_DATABASE_URL: the billing role's connection (it can reach schema billing only). */
  databaseUrl: string;
  /** GROUP_INSTANCE_ID: static membership, so a restart keeps its partitions. */
  groupInstanceId?: string;
  logLevel: string;
}

export function loadBillingConfig(env: NodeJS.ProcessEnv = process.env): BillingConfig {
  const databaseUrl = env.BILLING_DATABASE_URL;
  if (!databaseUrl)
    throw new Error('BILLING_DATABASE_URL is required (the billing role, schema billing)');
  const port = Number(env.BILLING_PORT ?? 3001);
  if (!Number.isInteger(port) || port < 0)
    throw new Error(`BILLING_PORT must be a port number, got "${env.BILLING_PORT}"`);
  return {
    host: env.BILLING_HOST ?? '127.0.0.1',
    port,
    broker: env.BROKER_ADDRESS ?? '127.0.0.1:9092',
    topic: env.CHECKOUT_TOPIC ?? 'patient.checkout',
    deadLetterTopic: env.DEAD_LETTER_TOPIC ?? 'patient.checkout.dlq',
    groupId: env.GROUP_ID ?? 'billing',
    databaseUrl,
    groupInstanceId: env.GROUP_INSTANCE_ID || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
