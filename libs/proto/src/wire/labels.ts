import { GroupState, RebalanceTrigger } from '../generated/hospital/broker/v1/groups';

/** Kafka's spelling of a group state: GROUP_STATE_PREPARING_REBALANCE → "PreparingRebalance". */
export function groupStateLabel(state: GroupState): string {
  const name = GroupState[state] as string | undefined;
  if (name === undefined) return 'Unknown';
  return name
    .replace(/^GROUP_STATE_/, '')
    .toLowerCase()
    .replace(/(^|_)(\w)/g, (_match, _separator: string, letter: string) => letter.toUpperCase());
}

/** What started a rebalance, in words: REBALANCE_TRIGGER_SESSION_TIMEOUT → "session timeout". */
export function rebalanceTriggerLabel(trigger: RebalanceTrigger): string {
  const name = RebalanceTrigger[trigger] as string | undefined;
  if (name === undefined) return 'unknown';
  return name
    .replace(/^REBALANCE_TRIGGER_/, '')
    .toLowerCase()
    .replace(/_/g, ' ');
}
