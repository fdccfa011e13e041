import { ErrorReason, type OffsetCommitRequest } from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';
import { kafkaCodeOf, KafkaErrorCode } from '../protocol/error-codes';
import { ApiKey, NO_THROTTLE, type KafkaApi, type KafkaContext } from './kafka-api';

/** Errors that belong to one partition of a commit, not to the whole request. */
const PARTITION_ERRORS = new Set<ErrorReason>([
  ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorReason.INVALID_COMMIT_OFFSET_SIZE,
  ErrorReason.OFFSET_METADATA_TOO_LARGE,
]);

/**
 * OffsetCommit v2–5, fenced by the coordinator as every commit is. A request
 * is stored as one unit; when one of its partitions is at fault, each
 * partition is committed on its own so the others still land, as in Kafka.
 * Retention per commit (v2–4) is ignored: the broker's offsets retention applies.
 */
export const offsetCommitApi: KafkaApi = {
  key: ApiKey.OffsetCommit,
  name: 'OffsetCommit',
  minVersion: 2,
  maxVersion: 5,
  async handle(input, version, context) {
    const groupId = input.string();
    const generationId = input.int32();
    const memberId = input.string();
    if (version <= 4) input.int64(); // retention time
    const topics = input.array((topic) => ({
      name: topic.string(),
      partitions: topic.array((partition) => ({
        partition: partition.int32(),
        committedOffset: partition.int64(),
        metadata: partition.nullableString() ?? '',
      })),
    }));
    const request: OffsetCommitRequest = {
      groupId,
      generationId,
      memberId,
      groupInstanceId: undefined,
      topics,
    };
    const codes = await commit(context, request);
    return (out) => {
      if (version >= 3) out.int32(NO_THROTTLE);
      out.array(topics, (w, topic) =>
        w
          .string(topic.name)
          .array(topic.partitions, (p, partition) =>
            p.int32(partition.partition).int16(codes(topic.name, partition.partition)),
          ),
      );
    };
  },
};

async function commit(
  context: KafkaContext,
  request: OffsetCommitRequest,
): Promise<(topic: string, partition: number) => number> {
  if (request.topics.every((topic) => topic.partitions.length === 0))
    return () => KafkaErrorCode.NONE;
  try {
    await context.broker.coordinator.commitOffsets(request);
    return () => KafkaErrorCode.NONE;
  } catch (error) {
    if (!(error instanceof BrokerError)) throw error;
    if (!PARTITION_ERRORS.has(error.reason)) return () => kafkaCodeOf(error);
  }
  const codes = new Map<string, number>();
  await Promise.all(
    request.topics.flatMap((topic) =>
      topic.partitions.map(async (partition) => {
        let code: number = KafkaErrorCode.NONE;
        try {
          await context.broker.coordinator.commitOffsets({
            ...request,
            topics: [{ name: topic.name, partitions: [partition] }],
          });
        } catch (error) {
          code = kafkaCodeOf(error);
        }
        codes.set(`${topic.name}\u0000${partition.partition}`, code);
      }),
    ),
  );
  return (topic, partition) => codes.get(`${topic}\u0000${partition}`) ?? KafkaErrorCode.NONE;
}

/** OffsetFetch v1–4: -1 for a partition without a commit; from v2 a null topic list means every committed one. */
export const offsetFetchApi: KafkaApi = {
  key: ApiKey.OffsetFetch,
  name: 'OffsetFetch',
  minVersion: 1,
  maxVersion: 4,
  handle(input, version, context) {
    const groupId = input.string();
    const read = (topic: typeof input) => ({
      name: topic.string(),
      partitions: topic.array((p) => p.int32()),
    });
    const topics = version >= 2 ? input.nullableArray(read) : input.array(read);
    let errorCode: number = KafkaErrorCode.NONE;
    let answer: {
      name: string;
      partitions: { partition: number; committedOffset: number; metadata: string }[];
    }[] = [];
    try {
      if (topics === null || topics.length > 0)
        answer = context.broker.groups.fetch({ groupId, topics: topics ?? [] }).topics;
    } catch (error) {
      errorCode = kafkaCodeOf(error);
    }
    return (out) => {
      if (version >= 3) out.int32(NO_THROTTLE);
      out.array(answer, (w, topic) =>
        w.string(topic.name).array(topic.partitions, (p, partition) =>
          p
            .int32(partition.partition)
            .int64(partition.committedOffset)
            .nullableString(partition.metadata)
            .int16(version < 2 ? errorCode : KafkaErrorCode.NONE),
        ),
      );
      if (version >= 2) out.int16(errorCode);
    };
  },
};
