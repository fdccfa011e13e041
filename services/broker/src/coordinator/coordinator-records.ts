import { GroupState, internal } from '@hospital/proto';
import { ClassicGroup, GroupMember } from './classic-group';

/** One record for __consumer_offsets; an empty value is a tombstone. */
export interface CoordinatorRecord {
  key: Buffer;
  value: Buffer;
}

const encodeKey = (key: internal.CoordinatorRecordKey) =>
  Buffer.from(internal.CoordinatorRecordKey.encode(key).finish());
const encodeValue = (value: internal.CoordinatorRecordValue) =>
  Buffer.from(internal.CoordinatorRecordValue.encode(value).finish());

export function offsetCommitRecord(
  groupId: string,
  topic: string,
  partition: number,
  value: internal.OffsetCommitValue | undefined,
): CoordinatorRecord {
  return {
    key: encodeKey({ key: { $case: 'offset', value: { groupId, topic, partition } } }),
    value: value ? encodeValue({ value: { $case: 'offset', value } }) : Buffer.alloc(0),
  };
}

export function groupMetadataRecord(group: ClassicGroup, nowMs: number): CoordinatorRecord {
  const value: internal.GroupMetadataValue = {
    protocolType: group.protocolType,
    generationId: group.generationId,
    protocolName: group.protocolName,
    leader: group.leaderId,
    stateTimestampMs: nowMs,
    members: [...group.members.values()].map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      host: member.host,
      sessionTimeoutMs: member.sessionTimeoutMs,
      rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      subscription: member.metadataFor(group.protocolName),
      assignment: member.assignment,
    })),
  };
  return {
    key: encodeKey({ key: { $case: 'group', value: { groupId: group.groupId } } }),
    value: encodeValue({ value: { $case: 'group', value } }),
  };
}

export function groupTombstone(groupId: string): CoordinatorRecord {
  return {
    key: encodeKey({ key: { $case: 'group', value: { groupId } } }),
    value: Buffer.alloc(0),
  };
}

export type DecodedRecord =
  | { kind: 'offset'; key: internal.OffsetCommitKey; value: internal.OffsetCommitValue | undefined }
  | { kind: 'group'; groupId: string; value: internal.GroupMetadataValue | undefined };

export function decodeCoordinatorRecord(key: Buffer, value: Buffer): DecodedRecord | undefined {
  const decodedKey = internal.CoordinatorRecordKey.decode(key).key;
  const decodedValue =
    value.length > 0 ? internal.CoordinatorRecordValue.decode(value).value : undefined;
  if (decodedKey?.$case === 'offset') {
    return {
      kind: 'offset',
      key: decodedKey.value,
      value: decodedValue?.$case === 'offset' ? decodedValue.value : undefined,
    };
  }
  if (decodedKey?.$case === 'group') {
    return {
      kind: 'group',
      groupId: decodedKey.value.groupId,
      value: decodedValue?.$case === 'group' ? decodedValue.value : undefined,
    };
  }
  return undefined;
}

/** Rebuilds a group from its last metadata record: Stable with its members, or Empty. */
export function restoreGroup(
  groupId: string,
  value: internal.GroupMetadataValue,
  nowMs: number,
): ClassicGroup {
  const group = new ClassicGroup(groupId, nowMs);
  group.generationId = value.generationId;
  group.protocolType = value.protocolType;
  group.protocolName = value.protocolName;
  for (const saved of value.members) {
    const member = new GroupMember(
      saved.memberId,
      saved.groupInstanceId,
      saved.clientId,
      saved.host,
      saved.sessionTimeoutMs,
      saved.rebalanceTimeoutMs,
      value.protocolType,
      [{ name: value.protocolName, metadata: Buffer.from(saved.subscription) }],
      nowMs,
    );
    member.assignment = Buffer.from(saved.assignment);
    member.isNew = false;
    group.add(member);
  }
  group.leaderId = value.members.some((member) => member.memberId === value.leader)
    ? value.leader
    : group.leaderId;
  if (group.members.size > 0) group.state = GroupState.GROUP_STATE_STABLE;
  return group;
}
