import 'reflect-metadata';
import { join } from 'node:path';
import { Module, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { applyMigrations } from '@hospital/db';
import { BrokerClientProxy, BrokerServer } from '@hospital/nest-broker';
import pino, { type Logger } from 'pino';
import { CheckoutHandler } from './checkout.handler';
import type { BillingConfig } from './config';
import { InvoicesController } from './invoices.controller';
import { BillingMetrics } from './metrics';
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
        BillingMetrics,
      ],
    };
  }
}

export interface RunningBilling {
  app: INestApplication;
  /** The group member behind @EventPattern: its events (commits, joins) and state. */
  server: BrokerServer;
  close(): Promise<void>;
}

/**
 * Billing: applies its migrations, then serves HTTP and joins group "billing".
 * close() finishes the record in hand, commits, leaves the group.
 */
export async function startBilling(
  config: BillingConfig,
  logger: Logger = pino({ name: 'billing', level: config.logLevel }),
): Promise<RunningBilling> {
  const migrations = await applyMigrations(config.databaseUrl, 'billing', MIGRATIONS_DIR);
  logger.info(migrations, 'migrations checked');
  const prisma = createBillingClient(config.databaseUrl);
  const deadLetters = new BrokerClientProxy({
    connection: { broker: config.broker, clientId: `${config.groupId}-dlq` },
  });
  const app = await NestFactory.create(
    BillingModule.forConfig(config, logger, prisma, deadLetters),
    { logger: false },
  );
  const server = new BrokerServer({
    connection: { broker: config.broker, clientId: config.groupInstanceId ?? config.groupId },
    consumer: {
      groupId: config.groupId,
      groupInstanceId: config.groupInstanceId,
      fromBeginning: true,
      commitMode: 'async',
      storedOffset: ({ topic, partition }) => storedOffset(prisma, topic, partition),
    },
  });
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(config.port, config.host);
  logger.info({ url: await app.getUrl(), group: config.groupId }, 'billing listening');
  return {
    app,
    server,
    close: async () => {
      await app.close();
      await deadLetters.close();
      await prisma.$disconnect();
    },
  };
}
