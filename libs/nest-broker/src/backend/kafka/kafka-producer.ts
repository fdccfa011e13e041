import { BufferBudget, type AcksLevel, type ProducerOptions } from '@hospital/broker-client';
import { recordSizeUpperBound } from '@hospital/proto';
import { Partitioners, type Message, type ICustomPartitioner } from 'kafkajs';
import type { EventProducer, KafkaConnectionOptions } from '../event-backend';
import { createKafka } from './kafka-client';
import { perRecordMetadata, toKafkaMessage } from './kafka-records';

const KAFKA_ACKS: { [level in AcksLevel]: number } = { none: 0, leader: 1, all: -1 };

/**
 * Kafka's default partitioner (murmur2 of the key, as our own producer and
 * the Java client), noting the partition it picks for each message so that
 * send() can give every record its own offset.
 */
function notingPartitioner(chosen: WeakMap<Message, number>): ICustomPartitioner {
  return () => {
    const partition = Partitioners.DefaultPartitioner();
    return (args) => {
      const picked = partition(args);
      chosen.set(args.message, picked);
      return picked;
    };
  };
}

/**
 * A producer over the Kafka protocol (KafkaJS), with our producer's promises:
 * send() resolves with each record's partition and offset once acknowledged
 * (acks all by default), and what it holds unacknowledged is bounded by
 * bufferBytes: a send that finds no room waits up to maxBlockMs, in order,
 * then fails with ProducerBufferFullError, as ours does. KafkaJS sends one
 * request per send() (it has no linger): callers batch by passing records together.
 */
export function kafkaProducer(
  connection: KafkaConnectionOptions,
  options: ProducerOptions = {},
): EventProducer {
  const chosen = new WeakMap<Message, number>();
  const producer = createKafka(connection, 'producer').producer({
    allowAutoTopicCreation: false,
    // Partitions added while the demo runs get records within seconds, as with our producer.
    metadataMaxAge: options.metadataMaxAgeMs ?? 5_000,
    createPartitioner: notingPartitioner(chosen),
  });
  const budget = new BufferBudget(
    options.bufferBytes ?? 32 * 1024 * 1024,
    options.maxBlockMs ?? 60_000,
  );
  let connecting: Promise<void> | undefined;
  const connected = () =>
    (connecting ??= producer.connect().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    }));
  return {
    client: producer,
    async send({ topic, messages, acks }) {
      const bytes = messages.reduce((sum, message) => sum + recordSizeUpperBound(message), 0);
      await budget.reserve(bytes);
      try {
        await connected();
        const outgoing = messages.map(toKafkaMessage);
        const acknowledged = await producer.send({
          topic,
          messages: outgoing,
          acks: KAFKA_ACKS[acks ?? options.acks ?? 'all'],
        });
        return perRecordMetadata(
          topic,
          outgoing.map((message) => chosen.get(message) ?? message.partition ?? -1),
          acknowledged,
        );
      } finally {
        budget.release(bytes);
      }
    },
    async disconnect() {
      if (connecting) await producer.disconnect();
      connecting = undefined;
    },
  };
}
