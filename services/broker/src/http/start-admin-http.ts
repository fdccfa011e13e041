import type { RequestBudgetView } from '../kafka/request-budget';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Logger } from 'pino';
import type { Broker } from '../broker';
import { PinoNestLogger } from '../grpc/pino-nest-logger';
import { AdminHttpModule } from './admin-http.module';

const DASHBOARD_DIR =
  process.env.BROKER_DASHBOARD_DIR ?? resolve(__dirname, '..', '..', 'dashboard');

export interface RunningAdminHttp {
  /** Where the dashboard is, e.g. http://127.0.0.1:8080 */
  url: string;
  close(): Promise<void>;
}

/** Serves the admin HTTP port (its own Nest app next to the gRPC one). */
export async function startAdminHttp(
  broker: Broker,
  logger: Logger,
  kafkaRequests?: RequestBudgetView,
): Promise<RunningAdminHttp> {
  const app = await NestFactory.create<NestExpressApplication>(
    AdminHttpModule.forBroker(broker, DASHBOARD_DIR, kafkaRequests),
    {
      logger: new PinoNestLogger(logger.child({ component: 'http' })),
      // Open event streams would otherwise hold a shutdown forever.
      forceCloseConnections: true,
    },
  );
  app.useBodyParser('json', { limit: '16kb' });
  const { httpHost, httpPort } = broker.config;
  await app.listen(httpPort, httpHost);
  const { port } = app.getHttpServer().address() as AddressInfo;
  const host = httpHost === '0.0.0.0' || httpHost === '::' ? '127.0.0.1' : httpHost;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () => app.close(),
  };
}
