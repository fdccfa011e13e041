import { ConsumerAssignment, ConsumerSubscription, type TopicPartitions } from '@hospital/proto';
import {
  decodeKafkaAssignment,
  decodeKafkaSubscription,
  isKafkaConsumerProtocol,
} from '../../kafka/protocol/consumer-protocol';
import type { GroupView } from './classic-group';
import type { Protocol } from './group-member';

/**
 * Groups of this protocol type carry consumer subscriptions and assignments:
 * our ConsumerSubscription and ConsumerAssignment from the broker's own
 * clients, or Kafka's consumer protocol from Kafka clients. The coordinator
 * passes both through; these readers only show what members subscribe to and own.
 */
export const CONSUMER_PROTOCOL = 'consumer';

/** Which client family wrote a member's consumer-protocol bytes. */
export function consumerEncoding(bytes: Uint8Array): 'kafka' | 'hospital' {
  return isKafkaConsumerProtocol(bytes) ? 'kafka' : 'hospital';
}

/** The topics a consumer-protocol subscription names, in either encoding; none when the bytes do not decode. */
export function subscriptionTopics(bytes: Buffer | undefined): string[] {
  if (!bytes || bytes.length === 0) return [];
  try {
    if (isKafkaConsumerProtocol(bytes)) return decodeKafkaSubscription(bytes).topics;
    return ConsumerSubscription.decode(bytes).topics;
  } catch {
    // Bytes from another kind of client name no topics; the group still works.
    return [];
  }
}

/** The partitions a consumer-protocol assignment gives, in either encoding; none when the bytes do not decode. */
export function assignmentPartitions(bytes: Buffer): TopicPartitions[] {
  if (bytes.length === 0) return [];
  try {
    if (isKafkaConsumerProtocol(bytes)) return decodeKafkaAssignment(bytes);
    return ConsumerAssignment.decode(bytes).partitions;
  } catch {
    // As above: an assignment we cannot read is shown as none.
    return [];
  }
}

/** A member's subscribed topics; none for another protocol type. */
export function decodeSubscription(group: GroupView, bytes: Buffer): string[] {
  return group.protocolType === CONSUMER_PROTOCOL ? subscriptionTopics(bytes) : [];
}

/** A member's assigned partitions; none for another protocol type. */
export function decodeAssignment(group: GroupView, bytes: Buffer): TopicPartitions[] {
  return group.protocolType === CONSUMER_PROTOCOL ? assignmentPartitions(bytes) : [];
}

/** Topics the members of a consumer group subscribe to, from their chosen protocol's metadata. */
export function subscribedTopics(group: GroupView): Set<string> {
  const topics = new Set<string>();
  for (const member of group.members.values())
    for (const topic of decodeSubscription(group, member.metadataFor(group.protocolName)))
      topics.add(topic);
  return topics;
}

/**
 * Whether a restarted member subscribes as its old instance did: the same
 * assignors in the same order and, for the consumer protocol, the same
 * topics. What it owns and its generation change across any restart, so
 * they do not count; other protocol types compare their bytes.
 */
export function sameSubscription(
  group: GroupView,
  before: readonly Protocol[],
  after: readonly Protocol[],
): boolean {
  if (before.length !== after.length) return false;
  return before.every((protocol, index) => {
    const other = after[index];
    if (protocol.name !== other.name) return false;
    if (group.protocolType !== CONSUMER_PROTOCOL) return protocol.metadata.equals(other.metadata);
    const topics = (bytes: Buffer) =>
      [...new Set(decodeSubscription(group, bytes))].sort().join('\u0000');
    return topics(protocol.metadata) === topics(other.metadata);
  });
}
