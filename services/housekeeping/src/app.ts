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
import type { HousekeepingConfig } from './config';
import { TasksController } from './tasks.controller';
import { createHousekeepingClient, storedOffset } from './persistence/housekeeping-store';
import { DEAD_LETTERS, LOGGER, HOUSEKEEPING_CONFIG, PRISMA } from './tokens';

export const MIGRATIONS_DIR = join(__dirname, '..', 'prisma', 'migrations');

@Module({})
class HousekeepingModule {
  static forConfig(
    config: HousekeepingConfig,
    logger: Logger,
    prisma: ReturnType<typeof createHousekeepingClient>,
    deadLetters: BrokerClientProxy,
  ): DynamicModule {
    return {
      module: HousekeepingModule,
      controllers: [CheckoutHandler, TasksController],
      providers: [
        { provide: HOUSEKEEPING_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: PRISMA, useValue: prisma },
        { provide: DEAD_LETTERS, useValue: deadLetters },
        { provide: ConsumerMetrics, useValue: new ConsumerMetrics('housekeeping') },
      ],
    };
  }
}

/** Housekeeping: applies its migrations, then serves HTTP and joins group "housekeeping". */
export function startHousekeeping(
  config: HousekeepingConfig,
  logger: Logger = pino({ name: 'housekeeping', level: config.logLevel }),
): Promise<RunningConsumerService> {
  return startConsumerService({
    schema: 'housekeeping',
    migrationsDir: MIGRATIONS_DIR,
    databaseUrl: config.databaseUrl,
    broker: config.broker,
    groupId: config.groupId,
    groupInstanceId: config.groupInstanceId,
    host: config.host,
    port: config.port,
    logger,
    createClient: createHousekeepingClient,
    storedOffset: (prisma, { topic, partition }) => storedOffset(prisma, topic, partition),
    module: (prisma, deadLetters) =>
      HousekeepingModule.forConfig(config, logger, prisma, deadLetters),
  });
}
