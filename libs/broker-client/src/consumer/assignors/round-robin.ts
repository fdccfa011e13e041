import {
  AssignmentBuilder,
  sortedMembers,
  topicsInOrder,
  type Assignment,
  type Assignor,
  type MemberSubscription,
} from './assignor';

/**
 * Kafka's RoundRobinAssignor: every subscribed partition, sorted by topic and
 * partition, goes to the next member in member-id order that subscribes to
 * its topic, round and round.
 */
export class RoundRobinAssignor implements Assignor {
  readonly name = 'roundrobin';
  readonly rebalanceProtocol = 'eager';

  assign(
    members: readonly MemberSubscription[],
    partitionsPerTopic: ReadonlyMap<string, number>,
  ): Assignment {
    const ordered = sortedMembers(members);
    const assignment = new AssignmentBuilder();
    let cursor = 0;
    for (const [topic, count] of topicsInOrder(partitionsPerTopic)) {
      if (!ordered.some((member) => member.topics.includes(topic))) continue;
      for (let partition = 0; partition < count; partition++) {
        while (!ordered[cursor % ordered.length].topics.includes(topic)) cursor++;
        assignment.give(ordered[cursor % ordered.length].memberId, topic, partition);
        cursor++;
      }
    }
    return assignment.build(members);
  }
}
