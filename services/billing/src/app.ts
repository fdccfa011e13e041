import { join } from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import {
  ConsumerMetrics,
  startConsumerService,
  type BrokerClientProxy,
  type RunningConsumerService,
} from '@hospital/nest-broker';
import pino, { type Logger } from 'pino';
import { CheckoutHandler } from './checkout.handler';
import type { BillingConfig } from './config';
import { InvoicesController } from './invoices.controller';
import { createBillingClient, storedOffset } from './persistence/billing-store';
import { BILLING_CONFIG, DEAD_LETTERS, LOGGER, PRISMA } from './tokens';

export const MIGRATIONS_DIR = join(__dirname, '..', 'prisma', 'migrations');

@Module({})
class BillingModule {
  static forConfig(
    config: BillingConfig,
    logger: Logger,
    prisma: ReturnType<typeof createBillingClient>,
    deadLetters: BrokerClientProxy,
  ): DynamicModule {
    return {
      module: BillingModule,
      controllers: [CheckoutHandler, InvoicesController],
      providers: [
        { provide: BILLING_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: PRISMA, useValue: prisma },
        { provide: DEAD_LETTERS, useValue: deadLetters },
        { provide: ConsumerMetrics, useValue: new ConsumerMetrics('billing') },
      ],
    };
  }
}

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
    storedOffset: (prisma, { topic, partition }) => storedOffset(prisma, topic, partition),
    module: (prisma, deadLetters) => BillingModule.forConfig(config, logger, prisma, deadLetters),
  });
}
