import { GroupState } from '@hospital/proto';
import type { GroupView } from '../../coordinator/state/classic-group';
import { kafkaCodeOf, KafkaErrorCode } from '../protocol/error-codes';
import { ApiKey, NO_THROTTLE, type KafkaApi } from './kafka-api';

/** Kafka's names for the classic group states, as DescribeGroups and kafka-consumer-groups print them. */
const STATE_NAMES: Record<GroupState, string> = {
  [GroupState.GROUP_STATE_UNSPECIFIED]: 'Unknown',
  [GroupState.GROUP_STATE_EMPTY]: 'Empty',
  [GroupState.GROUP_STATE_PREPARING_REBALANCE]: 'PreparingRebalance',
  [GroupState.GROUP_STATE_COMPLETING_REBALANCE]: 'CompletingRebalance',
  [GroupState.GROUP_STATE_STABLE]: 'Stable',
  [GroupState.GROUP_STATE_DEAD]: 'Dead',
  [GroupState.UNRECOGNIZED]: 'Unknown',
};

/**
 * DescribeGroups v0–2, from the coordinator's state: each member's metadata
 * and assignment bytes exactly as its client sent them. A group that does
 * not exist is "Dead" with no error, as Kafka answers.
 */
export const describeGroupsApi: KafkaApi = {
  key: ApiKey.DescribeGroups,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 2,
  handle(input, version, context) {
    const groups = input
      .array((r) => r.string())
      .map((groupId) => ({
        groupId,
        group: context.broker.coordinator.group(groupId),
      }));
    return (out) => {
      if (version >= 1) out.int32(NO_THROTTLE);
      out.array(groups, (w, { groupId, group }) => {
        w.int16(KafkaErrorCode.NONE).string(groupId);
        if (!group) {
          w.string('Dead')
            .string('')
            .string('')
            .array([], () => undefined);
          return;
        }
        w.string(STATE_NAMES[group.state]).string(group.protocolType).string(described(group));
        w.array([...group.members.values()], (m, member) => {
          m.string(member.memberId).string(member.clientId).string(member.host);
          m.bytes(group.protocolName ? member.metadataFor(group.protocolName) : Buffer.alloc(0));
          m.bytes(group.is(GroupState.GROUP_STATE_STABLE) ? member.assignment : Buffer.alloc(0));
        });
      });
    };
  },
};

/** Kafka fills protocol_data only once a protocol is chosen. */
function described(group: GroupView): string {
  return group.is(GroupState.GROUP_STATE_EMPTY) ? '' : group.protocolName;
}

/** ListGroups v0–2. */
export const listGroupsApi: KafkaApi = {
  key: ApiKey.ListGroups,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 2,
  handle(_input, version, context) {
    const { groups } = context.broker.groups.listGroups({ states: [] });
    return (out) => {
      if (version >= 1) out.int32(NO_THROTTLE);
      out.int16(KafkaErrorCode.NONE);
      out.array(groups, (w, group) => w.string(group.groupId).string(group.protocolType));
    };
  },
};

/** DeleteGroups v0–1: an admin operation, so the connection must have authenticated with the admin token. */
export const deleteGroupsApi: KafkaApi = {
  key: ApiKey.DeleteGroups,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 1,
  async handle(input, _version, context) {
    const groupIds = input.array((r) => r.string());
    const results = await Promise.all(
      groupIds.map(async (groupId) => {
        if (!context.session.admin)
          return { groupId, errorCode: KafkaErrorCode.GROUP_AUTHORIZATION_FAILED };
        try {
          await context.broker.coordinator.deleteGroup(groupId);
          return { groupId, errorCode: KafkaErrorCode.NONE };
        } catch (error) {
          return { groupId, errorCode: kafkaCodeOf(error) };
        }
      }),
    );
    return (out) => {
      out.int32(NO_THROTTLE);
      out.array(results, (w, result) => w.string(result.groupId).int16(result.errorCode));
    };
  },
};
