import { byCodeUnits } from '@hospital/proto';
import {
  sortedMembers,
  toAssignment,
  type Assignment,
  type Assignor,
  type MemberSubscription,
} from './assignor';

/**
 * Kafka's RangeAssignor: per topic, the subscribed members in member-id order
 * take consecutive ranges; the first (partitions % members) take one extra.
 * 4 partitions over 3 members: [0,1], [2], [3].
 */
export class RangeAssignor implements Assignor {
  readonly name = 'range';
  readonly rebalanceProtocol = 'eager';

  assign(
    members: readonly MemberSubscription[],
    partitionsPerTopic: ReadonlyMap<string, number>,
  ): Assignment {
    const owned = new Map<string, [string, number][]>();
    for (const [topic, count] of [...partitionsPerTopic].sort(([a], [b]) => byCodeUnits(a, b))) {
      const subscribers = sortedMembers(members).filter((member) => member.topics.includes(topic));
      if (subscribers.length === 0) continue;
      const base = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      let next = 0;
      subscribers.forEach((member, index) => {
        const take = base + (index < extra ? 1 : 0);
        const list = owned.get(member.memberId) ?? [];
        owned.set(member.memberId, list);
        for (let i = 0; i < take; i++) list.push([topic, next++]);
      });
    }
    return toAssignment(
      members.map((member) => member.memberId),
      owned,
    );
  }
}
