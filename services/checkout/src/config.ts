import { loadBrokerSettings, type BrokerSettings } from '@hospital/nest-broker';

/** Checkout's settings, from the environment, with defaults for the demo. */
export interface CheckoutConfig extends BrokerSettings {
  /** CHECKOUT_HOST / CHECKOUT_PORT: HTTP listener (default 127.0.0.1:3000). */
  host: string;
  port: number;
  /** CHECKOUT_TOPIC (default patient.checkout). */
  topic: string;
  /** SIMULATOR_RATE: simulated checkouts per second; 0 turns the simulator off (default 0). */
  simulatorRate: number;
  /** SIMULATOR_SEED: the same seed replays the same checkouts (default 1). */
  simulatorSeed: number;
  /** SIMULATOR_PATIENTS: size of the patient pool (default 5000). */
  simulatorPatients: number;
  /** SIMULATOR_LIMIT: stop after this many events; 0 means never (default 0). */
  simulatorLimit: number;
  /** SIMULATOR_CORRECTIONS: share of events that correct a recent checkout with a newer version (default 0.02). */
  simulatorCorrections: number;
  /** PRODUCER_BUFFER_BYTES: records held until the broker acknowledges them (default 32 MiB). */
  producerBufferBytes: number;
  /**
   * PRODUCER_MAX_BLOCK_MS: how long a checkout may wait for room in that
   * buffer before POST /checkouts answers 503 (default 5000; an HTTP client
   * should not wait the producer's own default of a minute).
   */
  producerMaxBlockMs: number;
  logLevel: string;
}

function number(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min)
    throw new Error(`${name} must be a number >= ${min}, got "${raw}"`);
  return value;
}

function fraction(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = number(env, name, fallback, 0);
  if (value > 1) throw new Error(`${name} must be between 0 and 1, got "${env[name]}"`);
  return value;
}

export function loadCheckoutConfig(env: NodeJS.ProcessEnv = process.env): CheckoutConfig {
  return {
    host: env.CHECKOUT_HOST ?? '127.0.0.1',
    port: number(env, 'CHECKOUT_PORT', 3000, 0),
    ...loadBrokerSettings(env),
    topic: env.CHECKOUT_TOPIC ?? 'patient.checkout',
    simulatorRate: number(env, 'SIMULATOR_RATE', 0, 0),
    simulatorSeed: number(env, 'SIMULATOR_SEED', 1, 0),
    simulatorPatients: number(env, 'SIMULATOR_PATIENTS', 5_000, 1),
    simulatorLimit: number(env, 'SIMULATOR_LIMIT', 0, 0),
    simulatorCorrections: fraction(env, 'SIMULATOR_CORRECTIONS', 0.02),
    producerBufferBytes: number(env, 'PRODUCER_BUFFER_BYTES', 32 * 1024 * 1024, 64 * 1024),
    producerMaxBlockMs: number(env, 'PRODUCER_MAX_BLOCK_MS', 5_000, 0),
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
