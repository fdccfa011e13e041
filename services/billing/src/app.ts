import { join } from 'node:path';
import { startConsumerService, type RunningConsumerService } from '@hospital/service-runtime';
import pino, { type Logger } from 'pino';
import { PatientCheckedOut } from '@hospital/proto';
import { rejectionReason } from './checkout-rules';
import type { BillingConfig } from './config';
import { InvoicesController } from './invoices.controller';
import { applyCheckouts, createBillingClient } from './persistence/billing-store';

export const MIGRATIONS_DIR = join(__dirname, '..', 'prisma', 'migrations');

export type RunningBilling = RunningConsumerService;

/** Billing: applies its migrations, then serves HTTP and joins group "billing". */
export function startBilling(
  config: BillingConfig,
  logger: Logger = pino({ name: 'billing', level: config.logLevel }),
): Promise<RunningBilling> {
  return startConsumerService({
    config,
    migrationsDir: MIGRATIONS_DIR,
    logger,
    createClient: createBillingClient,
    consumes: {
      decode: (bytes) => PatientCheckedOut.decode(bytes),
      reject: rejectionReason,
      write: (client, events, position) => applyCheckouts(client, { ...position, events }),
    },
    controllers: [InvoicesController],
  });
}
