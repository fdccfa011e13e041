/** Checkout's settings, from the environment, with defaults for the demo. */
export interface CheckoutConfig {
  /** CHECKOUT_HOST / CHECKOUT_PORT: HTTP listener (default 127.0.0.1:3000). */
  host: string;
  port: number;
  /** BROKER_ADDRESS: the broker's host:port (default 127.0.0.1:9092). */
  broker: string;
  /** CHECKOUT_TOPIC (default patient.checkout). */
  topic: string;
  /** SIMULATOR_RATE: simulated checkouts per second; 0 turns the simulator off (default 0). */
  simulatorRate: number;
  /** SIMULATOR_SEED: the same seed replays the same checkouts (default 1). */
  simulatorSeed: number;
  /** SIMULATOR_PATIENTS: size of the patient pool (default 5000). */
  simulatorPatients: number;
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

export function loadCheckoutConfig(env: NodeJS.ProcessEnv = process.env): CheckoutConfig {
  return {
    host: env.CHECKOUT_HOST ?? '127.0.0.1',
    port: number(env, 'CHECKOUT_PORT', 3000, 0),
    broker: env.BROKER_ADDRESS ?? '127.0.0.1:9092',
    topic: env.CHECKOUT_TOPIC ?? 'patient.checkout',
    simulatorRate: number(env, 'SIMULATOR_RATE', 0, 0),
    simulatorSeed: number(env, 'SIMULATOR_SEED', 1, 0),
    simulatorPatients: number(env, 'SIMULATOR_PATIENTS', 5_000, 1),
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
