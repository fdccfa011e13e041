import { loadConsumerServiceConfig, type ConsumerServiceConfig } from '@hospital/service-runtime';

/** Pharmacy's settings: PHARMACY_DATABASE_URL (required), PHARMACY_HOST/PORT (default 127.0.0.1:3003), and the shared consumer variables. */
export type PharmacyConfig = ConsumerServiceConfig;

export function loadPharmacyConfig(env: NodeJS.ProcessEnv = process.env): PharmacyConfig {
  return loadConsumerServiceConfig('pharmacy', 3003, env);
}
