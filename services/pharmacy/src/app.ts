import { join } from 'node:path';
import { startConsumerService, type RunningConsumerService } from '@hospital/service-runtime';
import pino, { type Logger } from 'pino';
import { PatientCheckedOut } from '@hospital/proto';
import { rejectionReason } from './checkout-rules';
import type { PharmacyConfig } from './config';
import { MedicationsController } from './medications.controller';
import { applyCheckouts, createPharmacyClient } from './persistence/pharmacy-store';

export const MIGRATIONS_DIR = join(__dirname, '..', 'prisma', 'migrations');

export type RunningPharmacy = RunningConsumerService;

/** Pharmacy: applies its migrations, then serves HTTP and joins group "pharmacy". */
export function startPharmacy(
  config: PharmacyConfig,
  logger: Logger = pino({ name: 'pharmacy', level: config.logLevel }),
): Promise<RunningPharmacy> {
  return startConsumerService({
    config,
    migrationsDir: MIGRATIONS_DIR,
    logger,
    createClient: createPharmacyClient,
    consumes: {
      decode: (bytes) => PatientCheckedOut.decode(bytes),
      reject: rejectionReason,
      write: (client, events, position) => applyCheckouts(client, { ...position, events }),
    },
    controllers: [MedicationsController],
  });
}
