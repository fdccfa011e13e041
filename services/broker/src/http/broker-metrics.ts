import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Broker } from '../broker';
import type { RequestBudgetView } from '../kafka/request-budget';

/** Prometheus metrics of the broker, read from its state at scrape time. */
export function brokerMetrics(broker: Broker, kafkaRequests?: RequestBudgetView): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'broker_' });
  if (kafkaRequests) {
    new Gauge({
      name: 'broker_kafka_request_bytes_held',
      help: 'bytes of Kafka requests read and not yet answered, across connections (bounded by BROKER_KAFKA_MAX_QUEUED_BYTES)',
      registers: [registry],
      collect() {
        this.set(kafkaRequests.usedBytes);
      },
    });
    new Gauge({
      name: 'broker_kafka_connections_waiting',
      help: 'Kafka connections not read until the request budget has room',
      registers: [registry],
      collect() {
        this.set(kafkaRequests.waiters);
      },
    });
  }
  const partitionGauge = (
    name: string,
    help: string,
    value: (log: { logEndOffset: number; sizeBytes: number }) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['topic', 'partition'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const topic of broker.store.list().map((topic) => broker.topics.describe(topic)))
          for (const partition of topic.partitions)
            this.set({ topic: topic.name, partition: partition.partition }, value(partition));
      },
    });
  partitionGauge(
    'broker_log_end_offset',
    'offset the next record appended will get',
    (log) => log.logEndOffset,
  );
  partitionGauge('broker_log_size_bytes', 'bytes stored in the partition', (log) => log.sizeBytes);
  new Gauge({
    name: 'broker_partition_offline',
    help: '1 when the partition stopped after a disk error (it needs a broker restart), else 0',
    labelNames: ['topic', 'partition'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const log of broker.store.allPartitions())
        this.set({ topic: log.topic, partition: log.partition }, log.failed ? 1 : 0);
    },
  });
  const groups = () => broker.groups.describeAll();
  new Gauge({
    name: 'broker_group_members',
    help: 'members of the consumer group',
    labelNames: ['group'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const group of groups()) this.set({ group: group.groupId }, group.members.length);
    },
  });
  new Gauge({
    name: 'broker_group_generation',
    help: 'the group generation; it grows by one per completed rebalance',
    labelNames: ['group'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const group of groups()) this.set({ group: group.groupId }, group.generationId);
    },
  });
  new Gauge({
    name: 'broker_group_lag',
    help: 'records between the committed offset and the log end',
    labelNames: ['group', 'topic', 'partition'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const group of groups())
        for (const offset of group.offsets)
          this.set(
            { group: group.groupId, topic: offset.topic, partition: offset.partition },
            offset.lag,
          );
    },
  });
  return registry;
}
