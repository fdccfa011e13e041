import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '@hospital/processes';
import pino from 'pino';
import { loadBrokerConfig, type BrokerConfig } from '../../src/config/broker-config';
import type { StorageFiles } from '../../src/storage/files/storage-files';
import { startBrokerServer, type RunningBroker } from '../../src/server';
import { BrokerRpc } from './broker-rpc';

export const ADMIN_TOKEN = 'test-admin-token';

export interface TestBroker {
  running: RunningBroker;
  rpc: BrokerRpc;
  config: BrokerConfig;
  stop(): Promise<void>;
}

/** An in-process broker on a free loopback port with a fresh data directory. */
export async function startTestBroker(
  env: NodeJS.ProcessEnv = {},
  files?: StorageFiles,
): Promise<TestBroker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'broker-test-'));
  const config = loadBrokerConfig({
    BROKER_HOST: '127.0.0.1',
    BROKER_PORT: String(await findFreePort()),
    BROKER_DATA_DIR: dataDir,
    BROKER_HTTP_PORT: '0',
    BROKER_ADMIN_TOKEN: ADMIN_TOKEN,
    ...env,
  });
  const running = await startBrokerServer(config, pino({ level: 'silent' }), files);
  const rpc = new BrokerRpc(running.address);
  return {
    running,
    rpc,
    config,
    async stop() {
      rpc.close();
      await running.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type KafkaTestBroker = TestBroker & { kafkaAddress: string };

/** A test broker with its Kafka listener on a free port, whose groups rebalance without the initial delay. */
export async function startKafkaTestBroker(): Promise<KafkaTestBroker> {
  const broker = await startTestBroker({
    BROKER_KAFKA_PORT: '0',
    BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
  });
  return { ...broker, kafkaAddress: broker.running.kafkaAddress as string };
}
