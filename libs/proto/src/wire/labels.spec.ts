import { GroupState, RebalanceTrigger } from '../generated/hospital/broker/v1/groups';
import { groupStateLabel, rebalanceTriggerLabel } from './labels';

describe('labels', () => {
  it('spells group states the way Kafka prints them', () => {
    expect(groupStateLabel(GroupState.GROUP_STATE_PREPARING_REBALANCE)).toBe('PreparingRebalance');
    expect(groupStateLabel(GroupState.GROUP_STATE_STABLE)).toBe('Stable');
    expect(groupStateLabel(99 as GroupState)).toBe('Unknown');
  });

  it('names rebalance triggers in words', () => {
    expect(rebalanceTriggerLabel(RebalanceTrigger.REBALANCE_TRIGGER_SESSION_TIMEOUT)).toBe(
      'session timeout',
    );
    expect(rebalanceTriggerLabel(RebalanceTrigger.REBALANCE_TRIGGER_PARTITIONS_ADDED)).toBe(
      'partitions added',
    );
  });
});
