import { createServer, type Server } from 'node:net';
import type { Logger } from 'pino';
import type { Broker } from '../broker';
import { KafkaConnection } from './kafka-connection';
import { RequestBudget, type RequestBudgetView } from './request-budget';

export interface RunningKafkaListener {
  /** host:port as bound. */
  address: string;
  port: number;
  /** Request bytes held across its connections, and connections waiting for room. */
  requests: RequestBudgetView;
  close(): Promise<void>;
}

/** Distinct (client id, API, version) triples logged; past it, new ones are not logged. */
const VERSION_LOG_LIMIT = 5_000;
const MAX_IN_FLIGHT = 64;
const MAX_CONNECTIONS = 10_000;
/** At most one "budget full" warning in this long. */
const BUDGET_WARNING_INTERVAL_MS = 10_000;

/**
 * The Kafka wire-protocol listener (BROKER_KAFKA_PORT): the same topics,
 * logs, groups and offsets as the gRPC API, for Kafka clients. Each API
 * version a client settles on is logged once, so the log shows what every
 * client negotiated.
 */
export async function startKafkaListener(
  broker: Broker,
  logger: Logger,
  host: string,
  port: number,
): Promise<RunningKafkaListener> {
  const log = logger.child({ component: 'kafka' });
  const connections = new Set<KafkaConnection>();
  const versionsLogged = new Set<string>();
  const budget = new RequestBudget(broker.config.kafkaMaxQueuedBytes);
  let budgetWarnedAt = -Infinity;
  const onBudgetFull = () => {
    if (Date.now() - budgetWarnedAt < BUDGET_WARNING_INTERVAL_MS) return;
    budgetWarnedAt = Date.now();
    log.warn(
      { usedBytes: budget.usedBytes, maxBytes: budget.maxBytes, waiting: budget.waiters + 1 },
      'kafka request budget full: connections wait before their next request is read (BROKER_KAFKA_MAX_QUEUED_BYTES)',
    );
  };
  let advertisedPort = port;
  const server: Server = createServer((socket) => {
    if (connections.size >= MAX_CONNECTIONS) {
      log.warn({ connections: connections.size }, 'kafka connection refused: too many connections');
      socket.destroy();
      return;
    }
    const connection = new KafkaConnection(socket, {
      broker,
      logger: log,
      advertised: { host: broker.config.kafkaAdvertisedHost, port: advertisedPort },
      maxRequestBytes: broker.config.maxRequestBytes,
      maxInFlight: MAX_IN_FLIGHT,
      budget,
      onBudgetFull,
      onVersionUsed(clientId, api, version) {
        const key = `${clientId}\u0000${api}\u0000${version}`;
        if (versionsLogged.has(key) || versionsLogged.size >= VERSION_LOG_LIMIT) return;
        versionsLogged.add(key);
        log.info({ clientId, api, version }, 'kafka client uses API version');
      },
    });
    connections.add(connection);
    socket.on('close', () => connections.delete(connection));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const boundPort = typeof bound === 'object' && bound ? bound.port : port;
  advertisedPort = boundPort;
  log.info(
    { host, port: boundPort, advertised: `${broker.config.kafkaAdvertisedHost}:${boundPort}` },
    'Kafka protocol listener ready',
  );
  return {
    address: `${host}:${boundPort}`,
    port: boundPort,
    requests: budget,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const connection of connections) connection.destroy();
      }),
  };
}
