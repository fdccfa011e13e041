import 'reflect-metadata';
import { Module, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { TopicPartition } from '@hospital/broker-client';
import { applyMigrations } from '@hospital/db';
import type { Logger } from 'pino';
import { BrokerClientProxy } from './broker.client';
import { BrokerServer } from './broker.server';
import { ConsumerMetrics } from './consumer-metrics';

/** What a consumer service's handlers and controllers can inject. */
export const SERVICE_CONFIG = 'SERVICE_CONFIG';
export const SERVICE_LOGGER = 'SERVICE_LOGGER';
export const DATABASE = 'DATABASE';
export const DEAD_LETTERS = 'DEAD_LETTERS';

@Module({})
class ConsumerServiceModule {}

export interface ConsumerServiceOptions<Client extends { $disconnect(): Promise<void> }> {
  /** The service's schema; its migrations folder is applied to it at start. */
  schema: string;
  migrationsDir: string;
  /** The service role's connection (it reaches its own schema only). */
  databaseUrl: string;
  broker: string;
  groupId: string;
  groupInstanceId?: string;
  host: string;
  port: number;
  logger: Logger;
  createClient(databaseUrl: string): Client;
  /** The next offset the service stored with its rows for a partition, if any. */
  storedOffset(client: Client, partition: TopicPartition): Promise<number | undefined>;
  /** The @EventPattern handlers and the HTTP controllers. They can inject SERVICE_CONFIG (this `config`), SERVICE_LOGGER, DATABASE (the client), DEAD_LETTERS (a BrokerClientProxy) and ConsumerMetrics. */
  controllers: Type[];
  config: unknown;
}

export interface RunningConsumerService {
  app: INestApplication;
  /** The group member behind the @EventPattern handlers: its events and state. */
  server: BrokerServer;
  /** Finishes the record in hand, commits, leaves the group, closes the database. */
  close(): Promise<void>;
}

/**
 * Starts a consumer service the way billing, housekeeping and pharmacy all
 * start: apply its migrations, open its database client, serve HTTP, and join
 * its consumer group, resuming each partition from the later of the broker's
 * commit and the offset stored with the rows.
 */
export async function startConsumerService<Client extends { $disconnect(): Promise<void> }>(
  options: ConsumerServiceOptions<Client>,
): Promise<RunningConsumerService> {
  const migrations = await applyMigrations(
    options.databaseUrl,
    options.schema,
    options.migrationsDir,
  );
  options.logger.info(migrations, 'migrations checked');
  const client = options.createClient(options.databaseUrl);
  const deadLetters = new BrokerClientProxy({
    connection: { broker: options.broker, clientId: `${options.groupId}-dlq` },
  });
  const app = await NestFactory.create(
    {
      module: ConsumerServiceModule,
      controllers: options.controllers,
      providers: [
        { provide: SERVICE_CONFIG, useValue: options.config },
        { provide: SERVICE_LOGGER, useValue: options.logger },
        { provide: DATABASE, useValue: client },
        { provide: DEAD_LETTERS, useValue: deadLetters },
        { provide: ConsumerMetrics, useValue: new ConsumerMetrics(options.schema) },
      ],
    },
    { logger: false },
  );
  const server = new BrokerServer({
    connection: { broker: options.broker, clientId: options.groupInstanceId ?? options.groupId },
    consumer: {
      groupId: options.groupId,
      groupInstanceId: options.groupInstanceId,
      fromBeginning: true,
      commitMode: 'async',
      storedOffset: (partition) => options.storedOffset(client, partition),
    },
  });
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(options.port, options.host);
  options.logger.info(
    { url: await app.getUrl(), group: options.groupId },
    `${options.groupId} listening`,
  );
  return {
    app,
    server,
    close: async () => {
      await app.close();
      await deadLetters.close();
      await client.$disconnect();
    },
  };
}
