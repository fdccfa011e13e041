import { kafkaCodeOf, KafkaErrorCode } from '../protocol/error-codes';
import { ApiKey, NO_THROTTLE, type KafkaApi } from './kafka-api';

const LATEST = -1;
const EARLIEST = -2;

/** ListOffsets v1–3: latest is the high watermark, earliest the log start, else the first offset at or after a time. */
export const listOffsetsApi: KafkaApi = {
  key: ApiKey.ListOffsets,
  name: 'ListOffsets',
  minVersion: 1,
  maxVersion: 3,
  handle(input, version, context) {
    input.int32(); // replica id
    if (version >= 2) input.int8(); // isolation level
    const topics = input.array((topic) => ({
      name: topic.string(),
      partitions: topic.array((partition) => ({
        partition: partition.int32(),
        timestamp: partition.int64(),
      })),
    }));
    const answers = topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map(({ partition, timestamp }) => {
        try {
          const spec =
            timestamp === LATEST
              ? { $case: 'latest' as const, value: true }
              : timestamp === EARLIEST
                ? { $case: 'earliest' as const, value: true }
                : { $case: 'timestampMs' as const, value: timestamp };
          const [found] = context.broker.data.listOffsets({
            topic: topic.name,
            partitions: [partition],
            spec: { spec },
          }).partitions;
          return {
            partition,
            errorCode: KafkaErrorCode.NONE,
            timestamp: found.offset < 0 ? -1 : found.timestampMs,
            offset: found.offset,
          };
        } catch (error) {
          return { partition, errorCode: kafkaCodeOf(error), timestamp: -1, offset: -1 };
        }
      }),
    }));
    return (out) => {
      if (version >= 2) out.int32(NO_THROTTLE);
      out.array(answers, (w, topic) =>
        w
          .string(topic.name)
          .array(topic.partitions, (p, answer) =>
            p
              .int32(answer.partition)
              .int16(answer.errorCode)
              .int64(answer.timestamp)
              .int64(answer.offset),
          ),
      );
    };
  },
};
