import { Kafka, logLevel, type Consumer, type KafkaConfig } from 'kafkajs';

/** A KafkaJS client of the test broker's Kafka listener, quiet unless a test fails. */
export function kafkaJs(address: string, options: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({
    clientId: 'kafka-protocol-spec',
    brokers: [address],
    logLevel: logLevel.NOTHING,
    retry: { retries: 3, initialRetryTime: 50 },
    ...options,
  });
}

/** Resolves with the consumer's assignment once it joined its group; rejects when it crashes first. */
export function joined(consumer: Consumer): Promise<{ [topic: string]: number[] }> {
  return new Promise((resolve, reject) => {
    const stopJoin = consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      stopJoin();
      stopCrash();
      resolve(payload.memberAssignment);
    });
    const stopCrash = consumer.on(consumer.events.CRASH, ({ payload }) => {
      stopJoin();
      stopCrash();
      reject(payload.error);
    });
  });
}
