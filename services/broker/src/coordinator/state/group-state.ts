import { GroupState } from '@hospital/proto';

/**
 * The classic group states and the only moves between them (Kafka's
 * ClassicGroupState). How each state answers requests:
 * - Empty: no members. JoinGroup starts a rebalance; Heartbeat and SyncGroup
 *   get UNKNOWN_MEMBER_ID; offsets can be committed with generation -1.
 * - PreparingRebalance: waiting for every member to rejoin (until the
 *   rebalance timeout). Heartbeat gets REBALANCE_IN_PROGRESS; commits from the
 *   current generation are still accepted so members can commit before rejoining.
 * - CompletingRebalance: joins are answered; waiting for the leader's
 *   SyncGroup. Commits get REBALANCE_IN_PROGRESS.
 * - Stable: assignment handed out; heartbeats keep members alive.
 * - Dead: removed; nothing is answered for it.
 */
const LEGAL: Record<GroupState, GroupState[]> = {
  [GroupState.GROUP_STATE_EMPTY]: [
    GroupState.GROUP_STATE_PREPARING_REBALANCE,
    GroupState.GROUP_STATE_DEAD,
  ],
  [GroupState.GROUP_STATE_PREPARING_REBALANCE]: [
    GroupState.GROUP_STATE_COMPLETING_REBALANCE,
    GroupState.GROUP_STATE_EMPTY,
    GroupState.GROUP_STATE_DEAD,
  ],
  [GroupState.GROUP_STATE_COMPLETING_REBALANCE]: [
    GroupState.GROUP_STATE_STABLE,
    GroupState.GROUP_STATE_PREPARING_REBALANCE,
    GroupState.GROUP_STATE_DEAD,
  ],
  [GroupState.GROUP_STATE_STABLE]: [
    GroupState.GROUP_STATE_PREPARING_REBALANCE,
    GroupState.GROUP_STATE_DEAD,
  ],
  [GroupState.GROUP_STATE_DEAD]: [],
  [GroupState.GROUP_STATE_UNSPECIFIED]: [],
  [GroupState.UNRECOGNIZED]: [],
};

export class IllegalStateTransition extends Error {}

export function assertTransition(groupId: string, from: GroupState, to: GroupState): void {
  if (!LEGAL[from].includes(to)) {
    throw new IllegalStateTransition(
      `group ${groupId}: illegal transition ${GroupState[from]} -> ${GroupState[to]}`,
    );
  }
}

export function stateName(state: GroupState): string {
  return GroupState[state].replace('GROUP_STATE_', '');
}
