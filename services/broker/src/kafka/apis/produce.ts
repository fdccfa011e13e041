import { Acks, ErrorReason } from '@hospital/proto';
import { kafkaCodeOf, KafkaErrorCode, KafkaRefusal } from '../protocol/error-codes';
import { decodeKafkaBatches } from '../protocol/record-batch-v2';
import { toStoredBatch } from '../protocol/transcode';
import { ApiKey, NO_THROTTLE, type KafkaApi, type KafkaContext } from './kafka-api';

interface PartitionResult {
  partition: number;
  errorCode: number;
  baseOffset: number;
  logStartOffset: number;
}

const ACKS: Record<number, Acks> = { 0: Acks.ACKS_NONE, 1: Acks.ACKS_LEADER, [-1]: Acks.ACKS_ALL };

/**
 * Produce v3–7. Each partition is appended on its own, so one bad partition
 * gets its own error as in Kafka, and pipelined requests append in the order
 * they arrived (the append itself is synchronous; only durability is awaited).
 */
export const produceApi: KafkaApi = {
  key: ApiKey.Produce,
  name: 'Produce',
  minVersion: 3,
  maxVersion: 7,
  async handle(input, version, context) {
    const transactionalId = input.nullableString();
    const acksCode = input.int16();
    const timeoutMs = input.int32();
    const topics = input.array((topic) => ({
      name: topic.string(),
      partitions: topic.array((partition) => ({
        index: partition.int32(),
        records: partition.nullableBytes(),
      })),
    }));
    const acks = ACKS[acksCode];
    const answers = topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((partition): Promise<PartitionResult> => {
        if (transactionalId !== null)
          return refuse(partition.index, KafkaErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
        if (acks === undefined) return refuse(partition.index, ErrorReason.INVALID_REQUIRED_ACKS);
        return appendPartition(
          context,
          topic.name,
          partition.index,
          partition.records,
          acks,
          timeoutMs,
        );
      }),
    }));
    const results = await Promise.all(
      answers.map(async (topic) => ({
        name: topic.name,
        partitions: await Promise.all(topic.partitions),
      })),
    );
    if (acks === Acks.ACKS_NONE) return undefined;
    return (out) => {
      out.array(results, (w, topic) => {
        w.string(topic.name).array(topic.partitions, (p, result) => {
          p.int32(result.partition).int16(result.errorCode).int64(result.baseOffset).int64(-1);
          if (version >= 5) p.int64(result.logStartOffset);
        });
      });
      out.int32(NO_THROTTLE);
    };
  },
};

function refuse(partition: number, errorCode: number): Promise<PartitionResult> {
  return Promise.resolve({ partition, errorCode, baseOffset: -1, logStartOffset: -1 });
}

async function appendPartition(
  context: KafkaContext,
  topic: string,
  partition: number,
  records: Buffer | null,
  acks: Acks,
  timeoutMs: number,
): Promise<PartitionResult> {
  try {
    if (records === null || records.length === 0)
      throw new KafkaRefusal(KafkaErrorCode.INVALID_RECORD, 'the partition carries no records');
    const batches = decodeKafkaBatches(records).map((batch) =>
      toStoredBatch(batch, context.session.clientId),
    );
    const response = await context.broker.data.produce({
      topics: [{ name: topic, partitions: batches.map((batch) => ({ partition, batch })) }],
      acks,
      timeoutMs: Math.max(timeoutMs, 0),
    });
    const first = response.topics[0].partitions[0];
    return {
      partition,
      errorCode: KafkaErrorCode.NONE,
      baseOffset: first.baseOffset,
      logStartOffset: first.logStartOffset,
    };
  } catch (error) {
    const code = kafkaCodeOf(error);
    if (error instanceof KafkaRefusal)
      context.logger.debug(
        { topic, partition, code, reason: error.message },
        'kafka produce refused',
      );
    return refuse(partition, code);
  }
}
