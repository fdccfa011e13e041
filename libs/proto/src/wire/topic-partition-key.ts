/**
 * One string per (topic, partition), for maps and sets. A topic name is
 * letters, digits, '.', '_' and '-' only, so the NUL between is unambiguous.
 */
export const topicPartitionKey = (topic: string, partition: number): string =>
  `${topic}\u0000${partition}`;

export function parseTopicPartitionKey(key: string): { topic: string; partition: number } {
  const split = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, split), partition: Number(key.slice(split + 1)) };
}
