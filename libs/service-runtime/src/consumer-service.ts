import 'reflect-metadata';
import { Controller, Module, type INestApplication, type Type } from '@nestjs/common';
import { Ctx, EventPattern } from '@nestjs/microservices';
import { NestFactory } from '@nestjs/core';
import { applyMigrations, readConsumedOffset, type SqlClient } from '@hospital/db';
import type { Logger } from 'pino';
import {
  BrokerBatchContext,
  BrokerClientProxy,
  BrokerServer,
  brokerConnection,
  brokerTarget,
} from '@hospital/nest-broker';
import { ConsumerMetrics } from './consumer-metrics';
import type { ConsumerServiceConfig } from './consumer-service-config';
import {
  handleBatchOrDeadLetter,
  type RecordBatch,
  type RecordPosition,
  type WriteResult,
} from './dead-letter';

import { ServiceStatusController } from './service-status.controller';
import { DATABASE, DEAD_LETTERS, SERVICE_CONFIG, SERVICE_LOGGER } from './tokens';

export { DATABASE, DEAD_LETTERS, SERVICE_CONFIG, SERVICE_LOGGER };

@Module({})
class ConsumerServiceModule {}

/** How a consumer service reads and writes what it consumes (topics come from its config). */
export interface ConsumedEvents<Client, Event> {
  decode(value: Buffer): Event;
  /** Why an event cannot be taken (it goes to the dead-letter topic); undefined when it can. */
  reject(event: Event): string | undefined;
  /** Writes a batch's events (none: only the position) and the partition's next offset in one transaction. */
  write(client: Client, events: Event[], position: RecordPosition): Promise<WriteResult>;
}

/** An @EventPattern(topic, { batch: true }) handler that hands each batch to `handle`. */
function batchHandler(topic: string, handle: (batch: RecordBatch) => Promise<unknown>): Type {
  @Controller()
  class BatchHandler {
    @EventPattern(topic, { batch: true })
    async onBatch(@Ctx() context: BrokerBatchContext): Promise<void> {
      await handle({
        topic: context.getTopic(),
        partition: context.getPartition(),
        records: context.getRecords(),
        highWatermark: context.getHighWatermark(),
      });
    }
  }
  return BatchHandler;
}

export interface ConsumerServiceOptions<
  Client extends SqlClient & { $disconnect(): Promise<void> },
  Event,
> {
  /** Where it listens, which group it joins, its database; see loadConsumerServiceConfig. */
  config: ConsumerServiceConfig;
  /** Applied to the service's schema (config.service) at start. */
  migrationsDir: string;
  logger: Logger;
  createClient(databaseUrl: string): Client;
  /** The events this service consumes; every record is written, or dead-lettered with its reason. */
  consumes: ConsumedEvents<Client, Event>;
  /** The read API's controllers (/health and /metrics are added). They can inject SERVICE_CONFIG (the config), SERVICE_LOGGER, DATABASE (the client), DEAD_LETTERS (a BrokerClientProxy) and ConsumerMetrics. */
  controllers: Type[];
}

export interface RunningConsumerService {
  app: INestApplication;
  /** The group member behind the @EventPattern handlers: its events and state. */
  server: BrokerServer;
  /** Finishes the batch in hand, commits, leaves the group, closes the database. */
  close(): Promise<void>;
}

/**
 * Starts a consumer service the way billing, housekeeping and pharmacy all
 * start: apply its migrations, open its database client, serve HTTP, and join
 * its consumer group, resuming each partition from the later of the broker's
 * commit and the offset stored with the rows.
 */
export async function startConsumerService<
  Client extends SqlClient & { $disconnect(): Promise<void> },
  Event,
>(options: ConsumerServiceOptions<Client, Event>): Promise<RunningConsumerService> {
  const { config, consumes } = options;
  const migrations = await applyMigrations(
    config.databaseUrl,
    config.service,
    options.migrationsDir,
  );
  options.logger.info(migrations, 'migrations checked');
  const client = options.createClient(config.databaseUrl);
  const deadLetters = new BrokerClientProxy({
    connection: brokerConnection(config, `${config.groupId}-dlq`, options.logger),
  });
  const metrics = new ConsumerMetrics(config.service);
  const handler = batchHandler(config.topic, (batch) =>
    handleBatchOrDeadLetter(batch, {
      deadLetters,
      deadLetterTopic: config.deadLetterTopic,
      groupId: config.groupId,
      decode: consumes.decode,
      reject: consumes.reject,
      write: (events, position) => consumes.write(client, events, position),
      metrics,
      logger: options.logger,
    }),
  );
  const app = await NestFactory.create(
    {
      module: ConsumerServiceModule,
      controllers: [handler, ServiceStatusController, ...options.controllers],
      providers: [
        { provide: SERVICE_CONFIG, useValue: config },
        { provide: SERVICE_LOGGER, useValue: options.logger },
        { provide: DATABASE, useValue: client },
        { provide: DEAD_LETTERS, useValue: deadLetters },
        { provide: ConsumerMetrics, useValue: metrics },
      ],
    },
    { logger: false },
  );
  const server = new BrokerServer({
    connection: brokerConnection(config, config.clientId, options.logger),
    partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
    consumer: {
      groupId: config.groupId,
      groupInstanceId: config.groupInstanceId,
      assignors: config.assignors,
      sessionTimeoutMs: config.sessionTimeoutMs,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      fromBeginning: true,
      // The position that counts is the one stored with the rows; the broker's
      // commit only needs to follow it, so commit on an interval, not per batch.
      commitMode: 'auto',
      autoCommitIntervalMs: 1_000,
      // The offset writeVersionedBatch stored with the rows, in the service's own schema.
      storedOffset: ({ topic, partition }) =>
        readConsumedOffset(client, config.service, topic, partition),
    },
  });
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(config.port, config.host);
  options.logger.info(
    { url: await app.getUrl(), group: config.groupId, broker: brokerTarget(config) },
    `${config.service} listening`,
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
