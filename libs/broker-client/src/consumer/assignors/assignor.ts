import { byCodeUnits } from '@hospital/proto';
import type { TopicPartitions } from '@hospital/proto';

/** What a member told the group about itself, decoded from its JoinGroup metadata. */
export interface MemberSubscription {
  memberId: string;
  topics: string[];
  /** Partitions the member owned in `generationId` (sticky assignors keep them where they can). */
  ownedPartitions: TopicPartitions[];
  generationId: number;
}

/** member id -> partitions per topic */
export type Assignment = Map<string, TopicPartitions[]>;

/**
 * A partition assignment strategy, negotiated by name through JoinGroup's
 * protocol list. `assign` is pure and sorts member ids, so every leader
 * computes the same answer from the same input.
 */
export interface Assignor {
  readonly name: string;
  /** eager: revoke everything before rejoining; cooperative: revoke only what moves. */
  readonly rebalanceProtocol: 'eager' | 'cooperative';
  assign(
    members: readonly MemberSubscription[],
    partitionsPerTopic: ReadonlyMap<string, number>,
  ): Assignment;
}

/** Builds an Assignment from member -> [topic, partition] pairs, topics and partitions sorted. */
export function toAssignment(
  memberIds: Iterable<string>,
  owned: Map<string, [string, number][]>,
): Assignment {
  const assignment: Assignment = new Map();
  for (const memberId of memberIds) {
    const byTopic = new Map<string, number[]>();
    for (const [topic, partition] of owned.get(memberId) ?? []) {
      const list = byTopic.get(topic) ?? [];
      byTopic.set(topic, list);
      list.push(partition);
    }
    assignment.set(
      memberId,
      [...byTopic.entries()]
        .sort(([a], [b]) => byCodeUnits(a, b))
        .map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) })),
    );
  }
  return assignment;
}

export const sortedMembers = (members: readonly MemberSubscription[]) =>
  [...members].sort((a, b) => byCodeUnits(a.memberId, b.memberId));

/** Topics and their partition counts in name order: every assignor walks them so. */
export const topicsInOrder = (partitionsPerTopic: ReadonlyMap<string, number>) =>
  [...partitionsPerTopic].sort(([a], [b]) => byCodeUnits(a, b));

/** Collects the partitions an assignor hands each member into an Assignment. */
export class AssignmentBuilder {
  private readonly owned = new Map<string, [string, number][]>();

  give(memberId: string, topic: string, partition: number): void {
    const list = this.owned.get(memberId) ?? [];
    this.owned.set(memberId, list);
    list.push([topic, partition]);
  }

  /** Every member gets an entry, an empty one if it was given nothing. */
  build(members: readonly MemberSubscription[]): Assignment {
    return toAssignment(
      members.map((member) => member.memberId),
      this.owned,
    );
  }
}
