import { ConsumerAssignment } from '@hospital/proto';

/**
 * The leader's side of a single-topic range assignment (members in id order,
 * the first ones take one extra), encoded for SyncGroup. The broker never
 * imports the client library, so its benchmark and protocol tests carry this
 * small copy of the arithmetic.
 */
export function rangeAssignment(
  memberIds: string[],
  topic: string,
  partitions: number,
): { memberId: string; assignment: Buffer }[] {
  const sorted = [...memberIds].sort();
  const base = Math.floor(partitions / sorted.length);
  const extra = partitions % sorted.length;
  let next = 0;
  return sorted.map((memberId, index) => {
    const count = base + (index < extra ? 1 : 0);
    const owned = Array.from({ length: count }, (_, i) => next + i);
    next += count;
    return {
      memberId,
      assignment: Buffer.from(
        ConsumerAssignment.encode({
          partitions: [{ topic, partitions: owned }],
          userData: Buffer.alloc(0),
        }).finish(),
      ),
    };
  });
}
