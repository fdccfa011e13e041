import type { BackendConnectionOptions, BrokerProtocol, LogSink } from './backend';

/** How a service reaches its broker, read the same way by checkout and every consumer service. */
export interface BrokerSettings {
  /** BROKER_PROTOCOL: grpc (default), or kafka for the Kafka protocol through KafkaJS. */
  protocol: BrokerProtocol;
  /** BROKER_ADDRESS: our broker's gRPC host:port (default 127.0.0.1:9092); used with grpc. */
  broker: string;
  /**
   * KAFKA_BROKERS: bootstrap host:port list, comma-separated (default
   * 127.0.0.1:9093, our broker's Kafka listener); used with kafka, and may
   * name Apache Kafka's brokers instead.
   */
  kafkaBrokers: string[];
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^\s:,[\]]+):(\d{1,5})$/;

function hostPorts(raw: string): string[] {
  const entries = raw.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const match = HOST_PORT.exec(entry);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65_535)
      throw new Error(`KAFKA_BROKERS must list host:port entries, comma-separated; got "${entry}"`);
  }
  return entries;
}

/** Reads BROKER_PROTOCOL, BROKER_ADDRESS and KAFKA_BROKERS; a bad value throws naming the variable. */
export function loadBrokerSettings(env: NodeJS.ProcessEnv = process.env): BrokerSettings {
  const protocol = env.BROKER_PROTOCOL || 'grpc';
  if (protocol !== 'grpc' && protocol !== 'kafka')
    throw new Error(`BROKER_PROTOCOL must be grpc or kafka, got "${protocol}"`);
  return {
    protocol,
    broker: env.BROKER_ADDRESS || '127.0.0.1:9092',
    kafkaBrokers: hostPorts(env.KAFKA_BROKERS || '127.0.0.1:9093'),
  };
}

/** Where a settings' protocol connects, as BrokerServer and BrokerClientProxy take it. */
export function brokerConnection(
  settings: BrokerSettings,
  clientId: string,
  logger?: LogSink,
): BackendConnectionOptions {
  return settings.protocol === 'kafka'
    ? { protocol: 'kafka', brokers: settings.kafkaBrokers, clientId, logger }
    : { broker: settings.broker, clientId };
}

/** Where the settings point, for a log line. */
export const brokerTarget = (settings: BrokerSettings): string =>
  settings.protocol === 'kafka'
    ? `kafka://${settings.kafkaBrokers.join(',')}`
    : `grpc://${settings.broker}`;
