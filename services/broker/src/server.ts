import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ServerCredentials, type Server } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { HealthImplementation } from 'grpc-health-check';
import pino, { type Logger } from 'pino';
import { Broker } from './broker';
import type { BrokerConfig } from './config/broker-config';
import { BrokerModule } from './grpc/broker.module';
import { startAdminHttp, type RunningAdminHttp } from './http/start-admin-http';
import { startKafkaListener, type RunningKafkaListener } from './kafka/kafka-listener';
import type { RequestBudgetView } from './kafka/request-budget';
import { GrpcExceptionFilter } from './grpc/grpc-exception.filter';
import { MalformedRequestGuard } from './grpc/malformed-request';
import { DataStreams } from './grpc/data-streams';
import { PinoNestLogger } from './grpc/pino-nest-logger';
import type { StorageFiles } from './storage/files/storage-files';
import { BROKER_PACKAGE, BROKER_SERVICE, brokerPackageDefinition } from './grpc/service-definition';

export interface RunningBroker {
  broker: Broker;
  address: string;
  /** host:port of the Kafka protocol listener, when BROKER_KAFKA_PORT is set. */
  kafkaAddress: string | undefined;
  /** The Kafka listener's request budget, when it runs. */
  kafkaRequests: RequestBudgetView | undefined;
  /** The admin HTTP port: dashboard, /health, /metrics. */
  dashboardUrl: string;
  /** Stops taking calls, lets in-flight ones finish, flushes and closes the logs. */
  close(): Promise<void>;
}

/** The gRPC health name for storage; `<it>/<topic>/<partition>` names one partition. */
export const STORAGE_HEALTH = `${BROKER_PACKAGE}.Storage`;

const PROTO_DIR = process.env.BROKER_PROTO_DIR ?? resolve(__dirname, '..', '..', '..', 'proto');

/** Descriptors of the .proto files, for server reflection (grpcurl, Postman). */
function reflectionService(): ReflectionService {
  const definition = loadSync(join('hospital', 'broker', 'v1', 'broker.proto'), {
    includeDirs: [PROTO_DIR],
  });
  return new ReflectionService(definition);
}

/** Starts the broker and its gRPC server (NestJS) with health and reflection. */
export async function startBrokerServer(
  config: BrokerConfig,
  logger: Logger = pino({ level: config.logLevel }),
  /** The disk; tests pass a fault-injecting double. */
  files?: StorageFiles,
): Promise<RunningBroker> {
  const broker = new Broker(config, logger, undefined, files);
  broker.start();
  const health = new HealthImplementation({
    '': 'SERVING',
    [`${BROKER_PACKAGE}.${BROKER_SERVICE}`]: 'SERVING',
    [STORAGE_HEALTH]: 'SERVING',
  });
  // A disk error takes one partition offline, not the broker: the storage
  // service and that partition's own name say so; the rest keeps serving.
  broker.store.onPartitionFailed((log) => {
    health.setStatus(STORAGE_HEALTH, 'NOT_SERVING');
    health.setStatus(`${STORAGE_HEALTH}/${log.topic}/${log.partition}`, 'NOT_SERVING');
  });
  const credentials = config.tls
    ? ServerCredentials.createSsl(
        null,
        [
          {
            cert_chain: readFileSync(config.tls.certFile),
            private_key: readFileSync(config.tls.keyFile),
          },
        ],
        false,
      )
    : ServerCredentials.createInsecure();
  const address = `${config.host}:${config.port}`;
  const streams = new DataStreams(
    broker.data,
    logger.child({ component: 'grpc' }),
    (clientId, request) => broker.noteFetch(clientId, request),
  );
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(
    BrokerModule.forBroker(broker, streams),
    {
      logger: new PinoNestLogger(logger.child({ component: 'nest' })),
      transport: Transport.GRPC,
      options: {
        package: BROKER_PACKAGE,
        packageDefinition: brokerPackageDefinition(),
        url: address,
        credentials,
        maxReceiveMessageLength: config.maxRequestBytes,
        maxSendMessageLength: config.maxRequestBytes,
        gracefulShutdown: true,
        onLoadPackageDefinition: (_definition: unknown, server: Server) => {
          health.addToServer(server);
          reflectionService().addToServer(server);
        },
      },
    },
  );
  app.useGlobalFilters(new GrpcExceptionFilter(logger.child({ component: 'grpc' })));
  app.useGlobalGuards(new MalformedRequestGuard());
  let http: RunningAdminHttp | undefined;
  let kafka: RunningKafkaListener | undefined;
  try {
    await app.listen();
    if (config.kafkaPort !== undefined)
      kafka = await startKafkaListener(broker, logger, config.host, config.kafkaPort);
    // After gRPC listens, so the admin port's /health means the whole broker is up.
    http = await startAdminHttp(broker, logger, kafka?.requests);
  } catch (error) {
    await kafka?.close();
    await app.close();
    await broker.close();
    throw error;
  }
  const admin = http;
  logger.info(
    { address, tls: Boolean(config.tls), dashboard: admin.url },
    'broker listening (gRPC); dashboard on admin HTTP',
  );

  let closing: Promise<void> | undefined;
  return {
    broker,
    address,
    kafkaAddress: kafka?.address,
    kafkaRequests: kafka?.requests,
    dashboardUrl: admin.url,
    close: () =>
      (closing ??= (async () => {
        health.setStatus('', 'NOT_SERVING');
        broker.wakeFetchers();
        streams.drainAll();
        await kafka?.close();
        await admin.close();
        await app.close();
        await broker.close();
      })()),
  };
}
