import { ErrorReason, type OffsetCommitRequest } from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';
import { kafkaCodeOf, KafkaErrorCode } from '../protocol/error-codes';
import type { KafkaReader } from '../protocol/kafka-reader';
import type { KafkaWriter } from '../protocol/kafka-writer';
import { ApiKey, NO_THROTTLE, type KafkaApi, type KafkaContext } from './kafka-api';

/** Errors that belong to one partition of a commit, not to the whole request. */
const PARTITION_ERRORS = new Set<ErrorReason>([
  ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorReason.INVALID_COMMIT_OFFSET_SIZE,
  ErrorReason.OFFSET_METADATA_TOO_LARGE,
]);

/**
 * OffsetCommit v2–8, fenced by the coordinator as every commit is (a static
 * member, v7+, by its instance id too). A request is stored as one unit;
 * when one of its partitions is at fault, each partition is committed on its
 * own so the others still land, as in Kafka. Retention per commit (v2–4) is
 * ignored: the broker's offsets retention applies. Leader epochs (v6+) are
 * not kept, as leaders never change here.
 */
export const offsetCommitApi: KafkaApi = {
  key: ApiKey.OffsetCommit,
  name: 'OffsetCommit',
  minVersion: 2,
  maxVersion: 8,
  flexibleFrom: 8,
  async handle(input, version, context) {
    const groupId = input.string();
    const generationId = input.int32();
    const memberId = input.string();
    const groupInstanceId = version >= 7 ? (input.nullableString() ?? undefined) : undefined;
    if (version <= 4) input.int64(); // retention time
    const topics = input.structs((topic) => ({
      name: topic.string(),
      partitions: topic.structs((partition) => {
        const index = partition.int32();
        const committedOffset = partition.int64();
        if (version >= 6) partition.int32(); // committed leader epoch
        return { partition: index, committedOffset, metadata: partition.nullableString() ?? '' };
      }),
    }));
    input.skipTags(); // the request's own tagged fields (flexible versions)
    const request: OffsetCommitRequest = {
      groupId,
      generationId,
      memberId,
      groupInstanceId,
      topics,
    };
    const codes = await commit(context, request);
    return (out) => {
      if (version >= 3) out.int32(NO_THROTTLE);
      out.structs(topics, (w, topic) =>
        w
          .string(topic.name)
          .structs(topic.partitions, (p, partition) =>
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

interface CommittedTopic {
  name: string;
  partitions: { partition: number; committedOffset: number; metadata: string }[];
}

interface GroupOffsets {
  groupId: string;
  errorCode: number;
  topics: CommittedTopic[];
}

/** No leader epoch is stored with a commit (v5+ answers carry this). */
const NO_LEADER_EPOCH = -1;

/**
 * OffsetFetch v1–8: -1 for a partition without a commit; from v2 a null topic
 * list means every committed one; from v8 one request reads several groups.
 */
export const offsetFetchApi: KafkaApi = {
  key: ApiKey.OffsetFetch,
  name: 'OffsetFetch',
  minVersion: 1,
  maxVersion: 8,
  flexibleFrom: 6,
  handle(input, version, context) {
    const readTopics = (reader: KafkaReader) => {
      const read = (topic: KafkaReader) => ({
        name: topic.string(),
        partitions: topic.array((p) => p.int32()),
      });
      return version >= 2 ? reader.nullableStructs(read) : reader.structs(read);
    };
    const requested =
      version >= 8
        ? input.structs((group) => ({ groupId: group.string(), topics: readTopics(group) }))
        : [{ groupId: input.string(), topics: readTopics(input) }];
    if (version >= 7) input.boolean(); // require stable: there are no transactions to wait for
    input.skipTags(); // the request's own tagged fields (flexible versions)
    const groups = requested.map(({ groupId, topics }) => committed(context, groupId, topics));
    const writeTopics = (out: KafkaWriter, group: GroupOffsets) =>
      out.structs(group.topics, (w, topic) =>
        w.string(topic.name).structs(topic.partitions, (p, partition) => {
          p.int32(partition.partition).int64(partition.committedOffset);
          if (version >= 5) p.int32(NO_LEADER_EPOCH);
          p.nullableString(partition.metadata);
          p.int16(version < 2 ? group.errorCode : KafkaErrorCode.NONE);
        }),
      );
    return (out) => {
      if (version >= 3) out.int32(NO_THROTTLE);
      if (version >= 8) {
        out.structs(groups, (w, group) => {
          w.string(group.groupId);
          writeTopics(w, group);
          w.int16(group.errorCode);
        });
        return;
      }
      writeTopics(out, groups[0]);
      if (version >= 2) out.int16(groups[0].errorCode);
    };
  },
};

function committed(
  context: KafkaContext,
  groupId: string,
  topics: { name: string; partitions: number[] }[] | null,
): GroupOffsets {
  try {
    const answer =
      topics === null || topics.length > 0
        ? context.broker.groups.fetch({ groupId, topics: topics ?? [] }).topics
        : [];
    return { groupId, errorCode: KafkaErrorCode.NONE, topics: answer };
  } catch (error) {
    return { groupId, errorCode: kafkaCodeOf(error), topics: [] };
  }
}
