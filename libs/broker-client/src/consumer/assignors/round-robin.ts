import { byCodeUnits } from '@hospital/proto';
import {
  sortedMembers,
  toAssignment,
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
    const owned = new Map<string, [string, number][]>();
    let cursor = 0;
    for (const [topic, count] of [...partitionsPerTopic].sort(([a], [b]) => byCodeUnits(a, b))) {
      if (!ordered.some((member) => member.topics.includes(topic))) continue;
      for (let partition = 0; partition < count; partition++) {
        while (!ordered[cursor % ordered.length].topics.includes(topic)) cursor++;
        const member = ordered[cursor % ordered.length];
        cursor++;
        const list = owned.get(member.memberId) ?? [];
        owned.set(member.memberId, list);
        list.push([topic, partition]);
      }
    }
    return toAssignment(
      members.map((member) => member.memberId),
      owned,
    );
  }
}
