import {
  AssignmentBuilder,
  sortedMembers,
  topicsInOrder,
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
    const assignment = new AssignmentBuilder();
    for (const [topic, count] of topicsInOrder(partitionsPerTopic)) {
      const subscribers = sortedMembers(members).filter((member) => member.topics.includes(topic));
      if (subscribers.length === 0) continue;
      const base = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      let next = 0;
      subscribers.forEach((member, index) => {
        const take = base + (index < extra ? 1 : 0);
        for (let i = 0; i < take; i++) assignment.give(member.memberId, topic, next++);
      });
    }
    return assignment.build(members);
  }
}
