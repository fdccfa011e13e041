import { join } from 'node:path';
import { startConsumerService, type RunningConsumerService } from '@hospital/service-runtime';
import pino, { type Logger } from 'pino';
import { PatientCheckedOut } from '@hospital/proto';
import { rejectionReason } from './checkout-rules';
import type { HousekeepingConfig } from './config';
import { TasksController } from './tasks.controller';
import { applyCheckouts, createHousekeepingClient } from './persistence/housekeeping-store';

export const MIGRATIONS_DIR = join(__dirname, '..', 'prisma', 'migrations');

export type RunningHousekeeping = RunningConsumerService;

/** Housekeeping: applies its migrations, then serves HTTP and joins group "housekeeping". */
export function startHousekeeping(
  config: HousekeepingConfig,
  logger: Logger = pino({ name: 'housekeeping', level: config.logLevel }),
): Promise<RunningHousekeeping> {
  return startConsumerService({
    config,
    migrationsDir: MIGRATIONS_DIR,
    logger,
    createClient: createHousekeepingClient,
    consumes: {
      decode: (bytes) => PatientCheckedOut.decode(bytes),
      reject: rejectionReason,
      write: (client, events, position) => applyCheckouts(client, { ...position, events }),
    },
    controllers: [TasksController],
  });
}
