import { loadConsumerServiceConfig, type ConsumerServiceConfig } from '@hospital/service-runtime';

/** Housekeeping's settings: HOUSEKEEPING_DATABASE_URL (required), HOUSEKEEPING_HOST/PORT (default 127.0.0.1:3002), and the shared consumer variables. */
export type HousekeepingConfig = ConsumerServiceConfig;

export function loadHousekeepingConfig(env: NodeJS.ProcessEnv = process.env): HousekeepingConfig {
  return loadConsumerServiceConfig('housekeeping', 3002, env);
}
