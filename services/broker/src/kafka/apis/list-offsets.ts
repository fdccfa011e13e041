import { kafkaCodeOf, KafkaErrorCode } from '../protocol/error-codes';
import { ApiKey, NO_THROTTLE, type KafkaApi } from './kafka-api';

const LATEST = -1;
const EARLIEST = -2;

/**
 * ListOffsets v0–5: latest is the high watermark, earliest the log start,
 * else the first offset at or after a time. Version 0, which lag checkers
 * such as Burrow still send, answers with a list of offsets: here the one
 * offset found, as a request for at most one asks (none when none is).
 */
export const listOffsetsApi: KafkaApi = {
  key: ApiKey.ListOffsets,
  name: 'ListOffsets',
  minVersion: 0,
  maxVersion: 5,
  handle(input, version, context) {
    input.int32(); // replica id
    if (version >= 2) input.int8(); // isolation level
    const topics = input.array((topic) => ({
      name: topic.string(),
      partitions: topic.array((partition) => {
        const index = partition.int32();
        if (version >= 4) partition.int32(); // current leader epoch: leaders never change here
        return {
          partition: index,
          timestamp: partition.int64(),
          maxOffsets: version === 0 ? partition.int32() : 1,
        };
      }),
    }));
    const answers = topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map(({ partition, timestamp, maxOffsets }) => {
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
            maxOffsets,
          };
        } catch (error) {
          return {
            partition,
            errorCode: kafkaCodeOf(error),
            timestamp: -1,
            offset: -1,
            maxOffsets,
          };
        }
      }),
    }));
    return (out) => {
      if (version >= 2) out.int32(NO_THROTTLE);
      out.array(answers, (w, topic) =>
        w.string(topic.name).array(topic.partitions, (p, answer) => {
          p.int32(answer.partition).int16(answer.errorCode);
          if (version === 0) {
            const found = answer.offset >= 0 && answer.maxOffsets > 0 ? [answer.offset] : [];
            p.array(found, (o, offset) => o.int64(offset));
          } else p.int64(answer.timestamp).int64(answer.offset);
          if (version >= 4) p.int32(answer.offset >= 0 ? 0 : -1); // leader epoch
        }),
      );
    };
  },
};
