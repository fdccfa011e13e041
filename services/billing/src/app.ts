import { join } from 'node:path';
import { startConsumerService, type RunningConsumerService } from '@hospital/nest-broker';
import pino, { type Logger } from 'pino';
import { CheckoutHandler } from './checkout.handler';
import type { BillingConfig } from './config';
import { InvoicesController } from './invoices.controller';
import { createBillingClient, storedOffset } from './persistence/billing-store';

export const MIGRATIONS_DIR = join(__dirname, '..', 'prisma', 'migrations');

export type RunningBilling = RunningConsumerService;

/** Billing: applies its migrations, then serves HTTP and joins group "billing". */
export function startBilling(
  config: BillingConfig,
  logger: Logger = pino({ name: 'billing', level: config.logLevel }),
): Promise<RunningBilling> {
  return startConsumerService({
    schema: 'billing',
    migrationsDir: MIGRATIONS_DIR,
    databaseUrl: config.databaseUrl,
    broker: config.broker,
    groupId: config.groupId,
    groupInstanceId: config.groupInstanceId,
    host: config.host,
    port: config.port,
    logger,
    createClient: createBillingClient,
    storedOffset: (client, { topic, partition }) => storedOffset(client, topic, partition),
    controllers: [CheckoutHandler, InvoicesController],
    config,
  });
}
