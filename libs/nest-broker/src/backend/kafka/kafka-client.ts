import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { KafkaConnectionOptions, LogSink } from '../event-backend';

/** KafkaJS's levels onto the sink's methods; NOTHING never reaches here. */
const SINK_METHOD: { [level: number]: keyof LogSink } = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** KafkaJS's log entries as structured lines of the service's own logger. */
function logCreator(sink: LogSink | undefined) {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      if (!sink) return;
      const { message, timestamp: _timestamp, logger: _logger, ...fields } = log;
      sink[SINK_METHOD[level] ?? 'info']({ kafkajs: namespace, ...fields }, message);
    };
}

/** One KafkaJS client for a producer or a consumer, its logs in our format. */
export function createKafka(options: KafkaConnectionOptions, role: string): Kafka {
  if (options.brokers.length === 0)
    throw new Error('the Kafka protocol needs at least one bootstrap broker (KAFKA_BROKERS)');
  return new Kafka({
    clientId: options.clientId ?? role,
    brokers: options.brokers,
    logLevel: logLevel.WARN,
    logCreator: logCreator(options.logger),
  });
}
