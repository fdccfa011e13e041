import pino from 'pino';

/** How long a stop may take (finish the batch, commit, leave the group) before the process exits anyway. */
const DEFAULT_GRACE_MS = 10_000;

/**
 * A service's process entry point: start it, and on SIGTERM or SIGINT close
 * it gracefully, exiting 0. If closing hangs (say the broker is gone and
 * LeaveGroup cannot be delivered), exit 1 after `graceMs` rather than linger:
 * the stored offsets make the next start resume correctly anyway.
 */
export function runService(
  name: string,
  start: () => Promise<{ close(): Promise<void> }>,
  graceMs: number = DEFAULT_GRACE_MS,
): void {
  const logger = pino({ name });
  start().then(
    (service) => {
      const stop = (signal: NodeJS.Signals) => {
        logger.info({ signal }, `${name} stopping`);
        setTimeout(() => {
          logger.error({ graceMs }, `${name} did not stop in time; exiting`);
          process.exit(1);
        }, graceMs).unref();
        service.close().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ err: error }, `${name} failed to stop cleanly`);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    },
    (error: unknown) => {
      logger.fatal({ err: error }, `${name} failed to start`);
      process.exit(1);
    },
  );
}
