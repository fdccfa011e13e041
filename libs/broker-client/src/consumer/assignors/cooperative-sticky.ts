import { topicPartitionKey } from '@hospital/proto';
import { toAssignment, type Assignment, type Assignor, type MemberSubscription } from './assignor';
import { previousOwners, stickyAssign } from './sticky';

/**
 * Kafka's CooperativeStickyAssignor: the sticky target, except that a
 * partition moving from one live owner to another is withheld this round.
 * Its owner sees it missing, revokes it and rejoins; the follow-up
 * rebalance hands it to its new owner. So a partition never goes straight
 * from one owner to another, and partitions that do not move keep being
 * consumed throughout.
 */
export class CooperativeStickyAssignor implements Assignor {
  readonly name = 'cooperative-sticky';
  readonly rebalanceProtocol = 'cooperative';

  assign(
    members: readonly MemberSubscription[],
    partitionsPerTopic: ReadonlyMap<string, number>,
  ): Assignment {
    const owners = previousOwners(members, partitionsPerTopic);
    const target = stickyAssign(members, partitionsPerTopic);
    for (const [memberId, partitions] of target) {
      target.set(
        memberId,
        partitions.filter(([topic, partition]) => {
          const owner = owners.get(topicPartitionKey(topic, partition));
          return owner === undefined || owner === memberId;
        }),
      );
    }
    return toAssignment(
      members.map((member) => member.memberId),
      target,
    );
  }
}
