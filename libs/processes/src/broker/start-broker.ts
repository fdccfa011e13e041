import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../postgres/free-port';
import { startNodeProcess, type NodeProcess } from '../process/node-process';

/** The built broker; test targets that use it depend on `broker:build`. */
export const BROKER_MAIN = join(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  'services',
  'broker',
  'dist',
  'main.js',
);

export interface StartBrokerOptions {
  /** Extra BROKER_* settings; port and data directory are chosen unless given. */
  env?: NodeJS.ProcessEnv;
  /** Reuse a data directory (to restart a broker on the same logs). */
  dataDir?: string;
  port?: number;
}

export interface BrokerProcess extends NodeProcess {
  address: string;
  /** host:port of its Kafka protocol listener, when BROKER_KAFKA_PORT was set. */
  kafkaAddress: string | undefined;
  /** Its admin HTTP port: dashboard, /api/snapshot, /health, /metrics. */
  dashboardUrl: string;
  port: number;
  dataDir: string;
  /** Removes the data directory if this call created it. */
  cleanup(): void;
}

/**
 * Runs the real broker as its own OS process on a free loopback port and
 * resolves once it logs that it listens.
 */
export async function startBroker(options: StartBrokerOptions = {}): Promise<BrokerProcess> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'broker-'));
  const port = options.port ?? (await findFreePort());
  let dashboardUrl = '';
  let kafkaAddress: string | undefined;
  const broker = await startNodeProcess({
    name: 'broker',
    main: BROKER_MAIN,
    env: {
      BROKER_HOST: '127.0.0.1',
      BROKER_PORT: String(port),
      BROKER_DATA_DIR: dataDir,
      BROKER_HTTP_PORT: '0',
      ...options.env,
      // Readiness is the info-level "broker listening" line: never quieter than info.
      LOG_LEVEL: ['trace', 'debug'].includes(options.env?.LOG_LEVEL ?? '')
        ? options.env?.LOG_LEVEL
        : 'info',
    },
    readyWhen: (line) => {
      // The Kafka listener (BROKER_KAFKA_PORT) starts first and logs its bound port.
      if (line.includes('Kafka protocol listener ready'))
        kafkaAddress = `127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
      if (!line.includes('broker listening')) return false;
      dashboardUrl = (JSON.parse(line) as { dashboard: string }).dashboard;
      return true;
    },
  });
  return {
    ...broker,
    address: `127.0.0.1:${port}`,
    kafkaAddress,
    dashboardUrl,
    port,
    dataDir,
    cleanup: () => {
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
