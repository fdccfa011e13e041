import { byCodeUnits, topicPartitionKey } from '@hospital/proto';
import {
  sortedMembers,
  toAssignment,
  topicsInOrder,
  type Assignment,
  type Assignor,
  type MemberSubscription,
} from './assignor';

type Partition = [string, number];
const keyOf = ([topic, partition]: Partition) => topicPartitionKey(topic, partition);

/**
 * Where each partition was before: the owner that still exists, still
 * subscribes to the topic, and claimed it in the newest generation.
 */
export function previousOwners(
  members: readonly MemberSubscription[],
  partitionsPerTopic: ReadonlyMap<string, number>,
): Map<string, string> {
  const owners = new Map<string, { memberId: string; generation: number }>();
  for (const member of sortedMembers(members)) {
    for (const { topic, partitions } of member.ownedPartitions) {
      if (!member.topics.includes(topic)) continue;
      for (const partition of partitions) {
        if (partition < 0 || partition >= (partitionsPerTopic.get(topic) ?? 0)) continue;
        const key = keyOf([topic, partition]);
        const claimed = owners.get(key);
        if (!claimed || member.generationId > claimed.generation)
          owners.set(key, { memberId: member.memberId, generation: member.generationId });
      }
    }
  }
  return new Map([...owners].map(([key, owner]) => [key, owner.memberId]));
}

/**
 * The sticky assignment: as balanced as round-robin (sizes differ by at most
 * one when members share a subscription) while moving as few partitions as
 * possible from their previous owners.
 */
export function stickyAssign(
  members: readonly MemberSubscription[],
  partitionsPerTopic: ReadonlyMap<string, number>,
): Map<string, Partition[]> {
  const ordered = sortedMembers(members);
  const all: Partition[] = [];
  for (const [topic, count] of topicsInOrder(partitionsPerTopic)) {
    if (!ordered.some((member) => member.topics.includes(topic))) continue;
    for (let partition = 0; partition < count; partition++) all.push([topic, partition]);
  }
  const owners = previousOwners(members, partitionsPerTopic);
  const current = new Map<string, Partition[]>(ordered.map((member) => [member.memberId, []]));
  const unassigned: Partition[] = [];
  for (const partition of all) {
    const owner = owners.get(keyOf(partition));
    if (owner) (current.get(owner) as Partition[]).push(partition);
    else unassigned.push(partition);
  }

  const count = (memberId: string) => (current.get(memberId) as Partition[]).length;
  const fewest = (topic: string) => {
    let best: MemberSubscription | undefined;
    for (const member of ordered) {
      if (member.topics.includes(topic) && (!best || count(member.memberId) < count(best.memberId)))
        best = member;
    }
    return best;
  };

  // New and orphaned partitions go to the subscribed member with the fewest.
  unassigned.sort((a, b) => byCodeUnits(a[0], b[0]) || a[1] - b[1]);
  for (const partition of unassigned) {
    const member = fewest(partition[0]);
    if (member) (current.get(member.memberId) as Partition[]).push(partition);
  }

  // Then balance: move one partition at a time from the biggest member to a
  // subscribed member holding at least two fewer, until no such move is left.
  // A balanced input moves nothing, so the result is stable round to round.
  for (;;) {
    const givers = [...ordered].sort(
      (a, b) => count(b.memberId) - count(a.memberId) || byCodeUnits(a.memberId, b.memberId),
    );
    let moved = false;
    for (const giver of givers) {
      const owned = current.get(giver.memberId) as Partition[];
      owned.sort((a, b) => byCodeUnits(a[0], b[0]) || a[1] - b[1]);
      for (let index = owned.length - 1; index >= 0 && !moved; index--) {
        const receiver = fewest(owned[index][0]);
        if (receiver && count(receiver.memberId) <= owned.length - 2) {
          (current.get(receiver.memberId) as Partition[]).push(...owned.splice(index, 1));
          moved = true;
        }
      }
      if (moved) break;
    }
    if (!moved) break;
  }
  return current;
}

/** Kafka's StickyAssignor (eager): balanced, and partitions stay where they were. */
export class StickyAssignor implements Assignor {
  readonly name: string = 'sticky';
  readonly rebalanceProtocol: 'eager' | 'cooperative' = 'eager';

  assign(
    members: readonly MemberSubscription[],
    partitionsPerTopic: ReadonlyMap<string, number>,
  ): Assignment {
    return toAssignment(
      members.map((member) => member.memberId),
      stickyAssign(members, partitionsPerTopic),
    );
  }
}
