import {
  Instrumentation,
  type ConsumerEvents,
  type ConsumerOptions,
  type TopicPartition,
} from '@hospital/broker-client';
import { OPERATOR_RESET_METADATA } from '@hospital/proto';
import type { Consumer, EachBatchPayload as KafkaBatchPayload } from 'kafkajs';
import type { EventConsumer, EventRunOptions, KafkaConnectionOptions } from '../event-backend';
import { createKafka } from './kafka-client';
import { kafkaJsRefusal, kafkajsAssigners } from './kafkajs-assigner';
import { toIncomingRecord } from './kafka-records';

/**
 * A group member over the Kafka protocol (KafkaJS), shaped like our own
 * Consumer: the same events, batches of IncomingRecords, resolveOffset, and
 * the same resume rule for effectively-once consumers (storedOffset). It is
 * eager only (KafkaJS has no cooperative rebalancing) and has no static
 * membership.
 */
export function kafkaConsumer(
  connection: KafkaConnectionOptions,
  options: ConsumerOptions,
): EventConsumer {
  const refusal = kafkaJsRefusal(options);
  if (refusal) throw new Error(refusal);
  const kafka = createKafka(connection, options.groupId);
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    partitionAssigners: kafkajsAssigners(options.assignors ?? ['range']),
    sessionTimeout: options.sessionTimeoutMs ?? 10_000,
    rebalanceTimeout: options.rebalanceTimeoutMs ?? 60_000,
    heartbeatInterval: options.heartbeatIntervalMs ?? 3_000,
    maxWaitTimeInMs: options.maxWaitMs ?? 500,
    maxBytesPerPartition: options.maxBytesPerPartition,
    allowAutoTopicCreation: false,
    metadataMaxAge: 5_000,
  });
  const admin = kafka.admin();
  let adminConnected: Promise<void> | undefined;
  const events = new Instrumentation<ConsumerEvents>();
  const groupId = options.groupId;
  /** Per partition since the last join: where reading really starts. */
  const starts = new Map<string, Promise<number>>();
  /** Per topic since the last join: partitions whose commit is an operator's reset (one OffsetFetch a topic). */
  const resets = new Map<string, Promise<Set<number>>>();

  const on = consumer.events;
  consumer.on(on.GROUP_JOIN, ({ payload }) => {
    starts.clear();
    resets.clear();
    events.emit('consumer.group.join', {
      groupId,
      memberId: payload.memberId,
      leaderId: payload.leaderId,
      isLeader: payload.isLeader,
      // KafkaJS does not report the generation here; heartbeats carry it.
      generationId: -1,
      protocol: payload.groupProtocol,
      assignment: payload.memberAssignment,
      pauseMs: payload.duration,
    });
  });
  consumer.on(on.REBALANCING, ({ payload }) =>
    events.emit('consumer.rebalancing', {
      groupId,
      memberId: payload.memberId,
      reason: 'the group is rebalancing',
    }),
  );
  consumer.on(on.COMMIT_OFFSETS, ({ payload }) =>
    events.emit('consumer.commit', {
      groupId,
      offsets: payload.topics.flatMap(({ topic, partitions }) =>
        partitions.map(({ partition, offset }) => ({
          topic,
          partition: Number(partition),
          offset: Number(offset),
        })),
      ),
    }),
  );
  consumer.on(on.HEARTBEAT, ({ payload }) =>
    events.emit('consumer.heartbeat', {
      groupId,
      memberId: payload.memberId,
      generationId: payload.groupGenerationId,
    }),
  );
  consumer.on(on.CRASH, ({ payload }) =>
    events.emit('consumer.crash', { groupId, error: payload.error, restart: payload.restart }),
  );
  consumer.on(on.STOP, () => events.emit('consumer.stop', { groupId }));

  /** Computed once per key until the next join; a failure is not kept, so the next batch asks again. */
  const once = <T>(cache: Map<string, Promise<T>>, key: string, compute: () => Promise<T>) => {
    let value = cache.get(key);
    if (!value) {
      value = compute();
      cache.set(key, value);
      value.catch(() => cache.delete(key));
    }
    return value;
  };
  const resetPartitions = (topic: string) =>
    once(resets, topic, async () => {
      await (adminConnected ??= admin.connect());
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return new Set(
        (committed?.partitions ?? [])
          .filter((entry) => entry.metadata === OPERATOR_RESET_METADATA)
          .map((entry) => entry.partition),
      );
    });
  /**
   * Where a newly assigned partition really starts, as our own consumer
   * decides it: the offset the application stored with its rows when that
   * is later than the broker's commit, unless an operator reset the commit
   * (then the reset wins). KafkaJS resumes from the broker's commit, so the
   * records before the stored offset are skipped here.
   */
  const startOf = (partition: TopicPartition): Promise<number> =>
    once(starts, `${partition.topic}\u0000${partition.partition}`, async () => {
      const stored = await options.storedOffset?.(partition);
      if (stored === undefined) return -1;
      return (await resetPartitions(partition.topic)).has(partition.partition) ? -1 : stored;
    });

  const eachBatch =
    (run: EventRunOptions) =>
    async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: KafkaBatchPayload) => {
      const start = await startOf({ topic: batch.topic, partition: batch.partition });
      const records = batch.messages
        .filter((message) => Number(message.offset) >= start)
        .map(toIncomingRecord);
      if (records.length < batch.messages.length) {
        // Already written with the application's rows: count them as processed.
        const skipped = batch.messages[batch.messages.length - records.length - 1];
        if (skipped) resolveOffset(skipped.offset);
      }
      if (records.length === 0) return;
      await run.eachBatch({
        batch: {
          topic: batch.topic,
          partition: batch.partition,
          highWatermark: Number(batch.highWatermark),
          messages: records,
        },
        resolveOffset: (offset) => resolveOffset(String(offset)),
        heartbeat,
        isRunning: () => isRunning() && !isStale(),
      });
    };

  let topics: string[] = [];
  return {
    client: consumer,
    on: (event, listener) => events.on(event, listener),
    subscribe(subscription) {
      topics = subscription.topics;
    },
    async run(run) {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? false });
      const sync = options.commitMode === 'sync';
      await consumer.run({
        partitionsConsumedConcurrently: run.partitionsConsumedConcurrently,
        // Only what the handler resolved counts: a batch left early stays unprocessed.
        eachBatchAutoResolve: false,
        autoCommitInterval: options.autoCommitIntervalMs ?? 5_000,
        // sync: every resolved offset is committed before the next batch.
        autoCommitThreshold: sync ? 1 : undefined,
        eachBatch: eachBatch(run),
      });
    },
    async stop() {
      try {
        await consumer.disconnect();
      } finally {
        if (adminConnected) await admin.disconnect();
      }
    },
  };
}
