import { CleanupPolicy, ErrorDetail, type FetchRequest, type internal } from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';
import { kafkaCodeOf, KafkaErrorCode } from '../protocol/error-codes';
import { KafkaWriter } from '../protocol/kafka-writer';
import { OFFSETS_TOPIC } from '../../coordinator/runtime/coordinator-log';
import { kafkaOffsetsRecord } from '../protocol/offsets-topic-format';
import { writeStoredBatch } from '../protocol/transcode';
import { ApiKey, NO_THROTTLE, type KafkaApi, type KafkaContext } from './kafka-api';

interface PartitionAnswer {
  partition: number;
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  records: Buffer;
}

/**
 * Fetch v4–12 over the data plane's long poll. Fetch sessions (KIP-227) are
 * not kept: the answer's session id 0 tells the client to send full fetches,
 * which every client handles. Isolation levels read the same, as there are no
 * transactions.
 */
export const fetchApi: KafkaApi = {
  key: ApiKey.Fetch,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 12,
  flexibleFrom: 12,
  async handle(input, version, context) {
    input.int32(); // replica id: consumers send -1
    const maxWaitMs = input.int32();
    const minBytes = input.int32();
    const maxBytes = input.int32();
    input.int8(); // isolation level
    if (version >= 7) {
      input.int32(); // session id
      input.int32(); // session epoch
    }
    const topics = input.structs((topic) => ({
      name: topic.string(),
      partitions: topic.structs((partition) => {
        const index = partition.int32();
        if (version >= 9) partition.int32(); // current leader epoch
        const fetchOffset = partition.int64();
        if (version >= 12) partition.int32(); // last fetched epoch: leaders never change here
        if (version >= 5) partition.int64(); // the follower's log start offset
        return { partition: index, fetchOffset, partitionMaxBytes: partition.int32() };
      }),
    }));
    if (version >= 7)
      input.structs((forgotten) => [forgotten.string(), forgotten.array((p) => p.int32())]);
    if (version >= 11) input.string(); // rack id
    input.skipTags(); // the request's own tagged fields (flexible versions)
    const request: FetchRequest = {
      maxWaitMs: Math.max(0, maxWaitMs),
      minBytes: Math.max(0, minBytes),
      maxBytes: Math.max(0, maxBytes),
      topics,
    };
    context.broker.noteFetch(context.session.clientId, request);
    const answers = await fetchAnswers(context, request);
    return (out) => {
      out.int32(NO_THROTTLE);
      if (version >= 7) out.int16(KafkaErrorCode.NONE).int32(0);
      out.structs(answers, (w, topic) => {
        w.string(topic.name).structs(topic.partitions, (p, answer) => {
          p.int32(answer.partition).int16(answer.errorCode).int64(answer.highWatermark);
          p.int64(answer.highWatermark); // last stable offset: no transactions
          if (version >= 5) p.int64(answer.logStartOffset);
          p.array([], () => undefined); // aborted transactions: none
          if (version >= 11) p.int32(-1); // preferred read replica: this broker
          p.bytes(answer.records);
        });
      });
    };
  },
};

async function fetchAnswers(
  context: KafkaContext,
  request: FetchRequest,
): Promise<{ name: string; partitions: PartitionAnswer[] }[]> {
  if (request.topics.every((topic) => topic.partitions.length === 0)) return [];
  let response: internal.FetchResponseView;
  try {
    response = await context.broker.data.fetch(request, context.session.closed);
  } catch (error) {
    if (!(error instanceof BrokerError)) throw error;
    // Every partition failed: each gets its own error, read once without waiting.
    return Promise.all(
      request.topics.map(async (topic) => ({
        name: topic.name,
        partitions: await Promise.all(
          topic.partitions.map((partition) =>
            context.broker.data
              .fetch({
                maxWaitMs: 0,
                minBytes: 0,
                maxBytes: request.maxBytes,
                topics: [{ name: topic.name, partitions: [partition] }],
              })
              .then(
                (single) => toAnswer(context, topic.name, single.topics[0].partitions[0]),
                (failure: unknown) => failed(partition.partition, failure),
              ),
          ),
        ),
      })),
    );
  }
  return response.topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map((partition) => toAnswer(context, topic.name, partition)),
  }));
}

function failed(partition: number, error: unknown): PartitionAnswer {
  return {
    partition,
    errorCode: kafkaCodeOf(error),
    highWatermark: -1,
    logStartOffset: -1,
    records: EMPTY,
  };
}

const EMPTY: Buffer = Buffer.alloc(0);

function toAnswer(
  context: KafkaContext,
  topic: string,
  slot: internal.FetchPartitionResponseView,
): PartitionAnswer {
  const errorCode =
    slot.error.length > 0 ? ErrorDetail.decode(slot.error).reason : KafkaErrorCode.NONE;
  let records: Buffer = EMPTY;
  if (slot.batches.length > 0) {
    const compacted =
      context.broker.store.get(topic).settings.cleanupPolicy ===
      CleanupPolicy.CLEANUP_POLICY_COMPACT;
    // The coordinator's records are served in Kafka's own layout, for lag checkers that read them.
    const rewrite = topic === OFFSETS_TOPIC ? kafkaOffsetsRecord : undefined;
    const out = new KafkaWriter(slot.batches.reduce((sum, batch) => sum + batch.length, 0) + 128);
    for (const batch of slot.batches) writeStoredBatch(out, batch, compacted, rewrite);
    records = out.view();
  }
  return {
    partition: slot.partition,
    errorCode,
    highWatermark: slot.highWatermark,
    logStartOffset: slot.logStartOffset,
    records,
  };
}
