import { internal } from '@hospital/proto';
import type { GroupView } from '../state/classic-group';
import { identityOf, type MemberSpec } from '../state/group-member';
import type { DurableRecord } from './group-records';

/** One record of __consumer_offsets as bytes; an empty value is a tombstone. */
export interface EncodedRecord {
  key: Buffer;
  value: Buffer;
}

const encodeKey = (key: internal.CoordinatorRecordKey) =>
  Buffer.from(internal.CoordinatorRecordKey.encode(key).finish());
const encodeValue = (value: internal.CoordinatorRecordValue) =>
  Buffer.from(internal.CoordinatorRecordValue.encode(value).finish());

export function encodeRecord(record: DurableRecord): EncodedRecord {
  switch (record.type) {
    case 'offset-commit': {
      const { groupId, topic, partition, value } = record;
      return {
        key: encodeKey({ key: { $case: 'offset', value: { groupId, topic, partition } } }),
        value: value ? encodeValue({ value: { $case: 'offset', value } }) : Buffer.alloc(0),
      };
    }
    case 'group-metadata':
      return {
        key: encodeKey({ key: { $case: 'group', value: { groupId: record.groupId } } }),
        value: encodeValue({ value: { $case: 'group', value: record.value } }),
      };
    case 'group-tombstone':
      return {
        key: encodeKey({ key: { $case: 'group', value: { groupId: record.groupId } } }),
        value: Buffer.alloc(0),
      };
  }
}

export function decodeRecord(key: Buffer, value: Buffer): DurableRecord | undefined {
  const decodedKey = internal.CoordinatorRecordKey.decode(key).key;
  const decodedValue =
    value.length > 0 ? internal.CoordinatorRecordValue.decode(value).value : undefined;
  if (decodedKey?.$case === 'offset') {
    return {
      type: 'offset-commit',
      ...decodedKey.value,
      value: decodedValue?.$case === 'offset' ? decodedValue.value : undefined,
    };
  }
  if (decodedKey?.$case === 'group') {
    const groupId = decodedKey.value.groupId;
    return decodedValue?.$case === 'group'
      ? { type: 'group-metadata', groupId, value: decodedValue.value }
      : { type: 'group-tombstone', groupId };
  }
  return undefined;
}

/** The group's metadata as Kafka stores it: generation, protocol, leader, and each member with its assignment. */
export function groupMetadataValue(
  group: GroupView,
  assignmentOf: (memberId: string) => Buffer,
  nowMs: number,
): internal.GroupMetadataValue {
  return {
    protocolType: group.protocolType,
    generationId: group.generationId,
    protocolName: group.protocolName,
    leader: group.leaderId,
    stateTimestampMs: nowMs,
    members: [...group.members.values()].map((member) => ({
      ...identityOf(member),
      subscription: member.metadataFor(group.protocolName),
      assignment: assignmentOf(member.memberId),
    })),
  };
}

/** The members a stored metadata value describes, ready for ClassicGroup.restore. */
export function savedMembers(
  value: internal.GroupMetadataValue,
): { spec: MemberSpec; assignment: Buffer }[] {
  return value.members.map((saved) => ({
    spec: {
      ...identityOf({ ...saved, groupInstanceId: saved.groupInstanceId }),
      protocolType: value.protocolType,
      protocols: [{ name: value.protocolName, metadata: Buffer.from(saved.subscription) }],
    },
    assignment: Buffer.from(saved.assignment),
  }));
}
