import { ConsumerAssignment, ConsumerSubscription, type TopicPartitions } from '@hospital/proto';
import type { GroupView } from './classic-group';
import type { Protocol } from './group-member';

/** Groups of this protocol type carry our ConsumerSubscription and ConsumerAssignment bytes. */
export const CONSUMER_PROTOCOL = 'consumer';

/** A member's subscribed topics; none for another protocol type or bytes that do not decode. */
export function decodeSubscription(group: GroupView, bytes: Buffer): string[] {
  if (group.protocolType !== CONSUMER_PROTOCOL || bytes.length === 0) return [];
  try {
    return ConsumerSubscription.decode(bytes).topics;
  } catch {
    // Bytes from a client that is not ours name no topics; the group still works.
    return [];
  }
}

/** A member's assigned partitions; none for another protocol type or bytes that do not decode. */
export function decodeAssignment(group: GroupView, bytes: Buffer): TopicPartitions[] {
  if (group.protocolType !== CONSUMER_PROTOCOL || bytes.length === 0) return [];
  try {
    return ConsumerAssignment.decode(bytes).partitions;
  } catch {
    // As above: an assignment we cannot read is shown as none.
    return [];
  }
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
