import { loadConsumerServiceConfig, type ConsumerServiceConfig } from '@hospital/service-runtime';

/** Billing's settings: BILLING_DATABASE_URL (required), BILLING_HOST/PORT (default 127.0.0.1:3001), and the shared consumer variables. */
export type BillingConfig = ConsumerServiceConfig;

export function loadBillingConfig(env: NodeJS.ProcessEnv = process.env): BillingConfig {
  return loadConsumerServiceConfig('billing', 3001, env);
}
