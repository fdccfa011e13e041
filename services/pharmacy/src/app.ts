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
import type { PharmacyConfig } from './config';
import { MedicationsController } from './medications.controller';
import { createPharmacyClient, storedOffset } from './persistence/pharmacy-store';
import { DEAD_LETTERS, LOGGER, PHARMACY_CONFIG, PRISMA } from './tokens';

export const MIGRATIONS_DIR = join(__dirname, '..', 'prisma', 'migrations');

@Module({})
class PharmacyModule {
  static forConfig(
    config: PharmacyConfig,
    logger: Logger,
    prisma: ReturnType<typeof createPharmacyClient>,
    deadLetters: BrokerClientProxy,
  ): DynamicModule {
    return {
      module: PharmacyModule,
      controllers: [CheckoutHandler, MedicationsController],
      providers: [
        { provide: PHARMACY_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: PRISMA, useValue: prisma },
        { provide: DEAD_LETTERS, useValue: deadLetters },
        { provide: ConsumerMetrics, useValue: new ConsumerMetrics('pharmacy') },
      ],
    };
  }
}

/** Pharmacy: applies its migrations, then serves HTTP and joins group "pharmacy". */
export function startPharmacy(
  config: PharmacyConfig,
  logger: Logger = pino({ name: 'pharmacy', level: config.logLevel }),
): Promise<RunningConsumerService> {
  return startConsumerService({
    schema: 'pharmacy',
    migrationsDir: MIGRATIONS_DIR,
    databaseUrl: config.databaseUrl,
    broker: config.broker,
    groupId: config.groupId,
    groupInstanceId: config.groupInstanceId,
    host: config.host,
    port: config.port,
    logger,
    createClient: createPharmacyClient,
    storedOffset: (prisma, { topic, partition }) => storedOffset(prisma, topic, partition),
    module: (prisma, deadLetters) => PharmacyModule.forConfig(config, logger, prisma, deadLetters),
  });
}
