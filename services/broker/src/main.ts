import pino from 'pino';
import { ConfigError, loadBrokerConfig } from './config/broker-config';
import { startBrokerServer } from './server';

async function main(): Promise<void> {
  const bootLogger = pino({ name: 'broker' });
  let config;
  try {
    config = loadBrokerConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      bootLogger.fatal(error.message);
      process.exit(2);
    }
    throw error;
  }
  const logger = pino({ name: 'broker', level: config.logLevel });
  const running = await startBrokerServer(config, logger);
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down: finishing calls, flushing logs');
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  pino({ name: 'broker' }).fatal({ err: error }, 'broker failed to start');
  process.exit(1);
});
