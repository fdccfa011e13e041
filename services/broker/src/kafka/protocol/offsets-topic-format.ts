import type { internal } from '@hospital/proto';
import { decodeRecord } from '../../coordinator/records/record-codec';
import {
  assignmentPartitions,
  CONSUMER_PROTOCOL,
  consumerEncoding,
  subscriptionTopics,
} from '../../coordinator/state/consumer-protocol';
import { encodeKafkaAssignment, encodeKafkaSubscription } from './consumer-protocol';
import { KafkaWriter } from './kafka-writer';
import type { KafkaKeyValue } from './transcode';

// Kafka's record versions in __consumer_offsets: keys 0–1 are offset
// commits and key 2 a group's metadata. An offset is written as Kafka 2.3
// writes it (value 3, whose API versions this listener serves). A group's
// metadata takes the oldest version that holds it: 1, which every reader
// knows (Burrow 1.2 reads no later one), or 3 once a member is static, as
// only 3 carries group instance ids.
const OFFSET_COMMIT_KEY = 1;
const GROUP_METADATA_KEY = 2;
const OFFSET_COMMIT_VALUE = 3;
const GROUP_METADATA_VALUE = { plain: 1, static: 3 } as const;
const NO_LEADER_EPOCH = -1;

/**
 * __consumer_offsets as Kafka lays it out, for the Kafka clients that read
 * the topic itself: lag checkers such as Burrow, and Kafka's own offsets
 * formatter. The coordinator stores its records as protobuf; fetched over
 * the Kafka listener, each is rewritten into Kafka's key and value schemas,
 * and a deleted offset or group is a null value (a tombstone), as in Kafka.
 * Members of the broker's own clients carry protobuf subscriptions and
 * assignments; they are rewritten into Kafka's consumer protocol too, so a
 * reader sees one format whatever client a member uses.
 */
export function kafkaOffsetsRecord(stored: KafkaKeyValue): KafkaKeyValue {
  const record = stored.key ? decodeRecord(stored.key, stored.value ?? EMPTY) : undefined;
  if (!record) return stored;
  const out = new KafkaWriter(128);
  switch (record.type) {
    case 'offset-commit': {
      out.int16(OFFSET_COMMIT_KEY).string(record.groupId).string(record.topic);
      const key = copy(out.int32(record.partition));
      return { key, value: record.value ? offsetCommitValue(record.value) : null };
    }
    case 'group-metadata':
      return {
        key: copy(out.int16(GROUP_METADATA_KEY).string(record.groupId)),
        value: groupMetadataValue(record.value),
      };
    case 'group-tombstone':
      return { key: copy(out.int16(GROUP_METADATA_KEY).string(record.groupId)), value: null };
  }
}

function offsetCommitValue(value: internal.OffsetCommitValue): Buffer {
  const out = new KafkaWriter(64);
  out.int16(OFFSET_COMMIT_VALUE).int64(value.offset).int32(NO_LEADER_EPOCH);
  return copy(out.string(value.metadata).int64(value.commitTimestampMs));
}

function groupMetadataValue(value: internal.GroupMetadataValue): Buffer {
  const version = value.members.some((member) => member.groupInstanceId !== undefined)
    ? GROUP_METADATA_VALUE.static
    : GROUP_METADATA_VALUE.plain;
  const out = new KafkaWriter(256);
  out
    .int16(version)
    .string(value.protocolType)
    .int32(value.generationId)
    // An Empty group has no protocol and no leader: Kafka writes both as null.
    .nullableString(value.protocolName || null)
    .nullableString(value.leader || null);
  if (version >= 2) out.int64(value.stateTimestampMs);
  out.array(value.members, (w, member) => {
    w.string(member.memberId);
    if (version >= 3) w.nullableString(member.groupInstanceId ?? null);
    w.string(member.clientId)
      .string(member.host)
      .int32(member.rebalanceTimeoutMs)
      .int32(member.sessionTimeoutMs);
    const consumer = value.protocolType === CONSUMER_PROTOCOL;
    w.bytes(consumer ? kafkaSubscription(Buffer.from(member.subscription)) : member.subscription);
    w.bytes(consumer ? kafkaAssignment(Buffer.from(member.assignment)) : member.assignment);
  });
  return copy(out);
}

const fromHospitalClient = (bytes: Buffer) =>
  bytes.length > 0 && consumerEncoding(bytes) === 'hospital';

function kafkaSubscription(bytes: Buffer): Buffer {
  return fromHospitalClient(bytes) ? encodeKafkaSubscription(subscriptionTopics(bytes)) : bytes;
}

function kafkaAssignment(bytes: Buffer): Buffer {
  return fromHospitalClient(bytes) ? encodeKafkaAssignment(assignmentPartitions(bytes)) : bytes;
}

const copy = (out: KafkaWriter): Buffer => Buffer.from(out.view());
const EMPTY = Buffer.alloc(0);
