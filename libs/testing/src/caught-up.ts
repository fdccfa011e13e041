/** The two admin calls this needs (an Admin of @hospital/broker-client fits; importing it would make a dependency cycle). */
export interface OffsetsView {
  fetchOffsets(groupId: string, topic: string): Promise<{ partition: number; offset: number }[]>;
  describeTopic(
    topic: string,
  ): Promise<{ partitions: { partition: number; logEndOffset: number }[] }>;
}

/** True once the group has committed the end of every non-empty partition of the topic. */
export async function isCaughtUp(
  admin: OffsetsView,
  groupId: string,
  topic: string,
): Promise<boolean> {
  const [offsets, described] = await Promise.all([
    admin.fetchOffsets(groupId, topic),
    admin.describeTopic(topic),
  ]);
  return described.partitions.every(
    (partition) =>
      partition.logEndOffset === 0 ||
      offsets.find((entry) => entry.partition === partition.partition)?.offset ===
        partition.logEndOffset,
  );
}

/**
 * Resolves once a group's committed offsets reach the end of every non-empty
 * partition of a topic. It checks at once and again after every commit the
 * member reports (`onCommit` subscribes and returns an unsubscribe function),
 * listening before the first check so no commit slips between the two.
 */
export function groupCaughtUp(
  admin: OffsetsView,
  groupId: string,
  topic: string,
  onCommit: (listener: () => void) => () => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const check = () =>
      void isCaughtUp(admin, groupId, topic).then((caughtUp) => {
        if (!caughtUp || done) return;
        done = true;
        off();
        resolve();
      }, reject);
    const off = onCommit(check);
    check();
  });
}
