import { groupCaughtUp, isCaughtUp, type OffsetsView } from './caught-up';

/** A topic of three partitions whose log ends and committed offsets the test moves. */
function fakeAdmin(logEnds: number[]) {
  const committed = new Map<number, number>();
  const admin: OffsetsView = {
    fetchOffsets: async () => [...committed].map(([partition, offset]) => ({ partition, offset })),
    describeTopic: async () => ({
      partitions: logEnds.map((logEndOffset, partition) => ({ partition, logEndOffset })),
    }),
  };
  return { admin, committed };
}

describe('testing/groupCaughtUp', () => {
  it('counts a group caught up when every non-empty partition is committed to its end', async () => {
    const { admin, committed } = fakeAdmin([5, 0, 3]);
    expect(await isCaughtUp(admin, 'billing', 't')).toBe(false);
    committed.set(0, 5);
    committed.set(2, 2);
    expect(await isCaughtUp(admin, 'billing', 't')).toBe(false);
    committed.set(2, 3);
    expect(await isCaughtUp(admin, 'billing', 't')).toBe(true);
  });

  it('resolves on the commit that reaches the end, and stops listening', async () => {
    const { admin, committed } = fakeAdmin([2]);
    const listeners = new Set<() => void>();
    const onCommit = (listener: () => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    };
    let resolved = false;
    const caughtUp = groupCaughtUp(admin, 'billing', 't', onCommit).then(() => (resolved = true));
    committed.set(0, 1);
    for (const listener of listeners) listener();
    await new Promise((resolve) => setImmediate(resolve));
    expect(resolved).toBe(false);
    committed.set(0, 2);
    for (const listener of listeners) listener();
    await caughtUp;
    expect(listeners.size).toBe(0);
  });
});
