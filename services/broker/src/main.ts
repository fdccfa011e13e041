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
  exitOnBug(logger);
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

/**
 * An unhandled rejection or uncaught exception is a bug of the broker: some
 * in-memory state (a group, a partition's write position) may be half-changed.
 * Carrying on could acknowledge or assign on top of it, so the broker logs it
 * as a bug with its stack and exits with 70 (EX_SOFTWARE). What was
 * acknowledged is on disk: a restart (the demo's supervisor, compose's
 * restart policy) re-validates the logs and replays __consumer_offsets, and
 * members rejoin.
 */
function exitOnBug(logger: pino.Logger): void {
  const die = (kind: string) => (error: unknown) => {
    logger.fatal(
      { err: error, bug: true, kind },
      `broker bug: ${kind}; exiting so a restart recovers from disk`,
    );
    process.exit(70);
  };
  process.on('unhandledRejection', die('unhandled rejection'));
  process.on('uncaughtException', die('uncaught exception'));
}

main().catch((error: unknown) => {
  pino({ name: 'broker' }).fatal({ err: error }, 'broker failed to start');
  process.exit(1);
});
