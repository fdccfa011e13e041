import { byCodeUnits, parseTopicPartitionKey, topicPartitionKey } from '@hospital/proto';
import type { TopicPartitions } from '@hospital/proto';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export const tpKey = topicPartitionKey;
export const fromKey: (key: string) => TopicPartition = parseTopicPartitionKey;

export function toTopicPartitions(keys: Iterable<string>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const key of keys) {
    const { topic, partition } = fromKey(key);
    byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
  }
  return [...byTopic]
    .sort(([a], [b]) => byCodeUnits(a, b))
    .map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}

export function keysOf(assignment: TopicPartitions[]): Set<string> {
  return new Set(
    assignment.flatMap(({ topic, partitions }) =>
      partitions.map((partition) => tpKey(topic, partition)),
    ),
  );
}
