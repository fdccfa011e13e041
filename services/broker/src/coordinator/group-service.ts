import {
  ConsumerAssignment,
  ErrorReason,
  OPERATOR_RESET_METADATA,
  GroupState,
  type DescribeGroupResponse,
  type GroupDescription,
  type ListGroupsRequest,
  type ListGroupsResponse,
  type MemberDescription,
  type OffsetCommitRequest,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
  type PartitionLag,
  type ResetOffsetsRequest,
  type ResetOffsetsResponse,
  type TopicPartitions,
  ConsumerSubscription,
  byCodeUnits,
} from '@hospital/proto';
import type { Logger } from 'pino';
import { BrokerError, invalidField } from '../errors/broker-error';
import type { TopicStore } from '../storage/topic-store';
import type { ClassicGroup } from './classic-group';
import type { CoordinatorLog } from './coordinator-log';
import {
  decodeCoordinatorRecord,
  groupMetadataRecord,
  groupTombstone,
  offsetCommitRecord,
  restoreGroup,
  type CoordinatorRecord,
} from './coordinator-records';
import { GroupCoordinator, subscribedTopics } from './group-coordinator';
import { OffsetStore } from './offset-store';

const MAX_METADATA_CHARS = 4096;

/**
 * Offsets and group administration around the coordinator's state machine:
 * commits are checked, written to __consumer_offsets, and only then replayed
 * into the offset store (handlers compute, replay mutates) — the same replay
 * a broker start runs over the whole log.
 */
export class GroupService {
  readonly offsets = new OffsetStore();

  constructor(
    readonly coordinator: GroupCoordinator,
    private readonly log: CoordinatorLog,
    private readonly store: TopicStore,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  /** Rebuilds offsets and groups from __consumer_offsets. */
  load(): { groups: number; offsets: number; records: number } {
    this.log.ensureTopic();
    const groups = new Map<string, ReturnType<typeof decodeCoordinatorRecord>>();
    let records = 0;
    for (const record of this.log.readAll()) {
      records++;
      const decoded = decodeCoordinatorRecord(record.key, record.value);
      if (decoded?.kind === 'offset') this.offsets.replay(decoded.key, decoded.value);
      else if (decoded?.kind === 'group') groups.set(decoded.groupId, decoded);
    }
    for (const [groupId, decoded] of groups) {
      if (decoded?.kind === 'group' && decoded.value)
        this.coordinator.restoreGroup(restoreGroup(groupId, decoded.value, this.now()));
    }
    for (const groupId of this.offsets.groupIds()) this.coordinator.ensureGroup(groupId);
    const offsets = this.offsets
      .groupIds()
      .reduce((sum, groupId) => sum + this.offsets.all(groupId).length, 0);
    return { groups: this.coordinator.groups.size, offsets, records };
  }

  /** Persistence for the state machine: the group's metadata as one record. */
  storeGroup(group: ClassicGroup): Promise<void> {
    return this.log.append(group.groupId, [groupMetadataRecord(group, this.now())]);
  }

  async commit(request: OffsetCommitRequest): Promise<void> {
    if (!request.groupId)
      throw new BrokerError(ErrorReason.INVALID_GROUP_ID, 'group_id must not be empty', {
        field: 'group_id',
      });
    const records: CoordinatorRecord[] = [];
    for (const [topicIndex, topic] of request.topics.entries()) {
      const partitions = this.store.get(topic.name).partitions.length;
      for (const [index, partition] of topic.partitions.entries()) {
        const field = `topics[${topicIndex}].partitions[${index}]`;
        if (partition.partition < 0 || partition.partition >= partitions) {
          throw new BrokerError(
            ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
            `${field}: topic ${topic.name} has no partition ${partition.partition}`,
          );
        }
        if (partition.committedOffset < 0)
          throw new BrokerError(
            ErrorReason.INVALID_COMMIT_OFFSET_SIZE,
            `${field}: committed_offset must not be negative`,
          );
        if (partition.metadata.length > MAX_METADATA_CHARS) {
          throw new BrokerError(
            ErrorReason.OFFSET_METADATA_TOO_LARGE,
            `${field}: metadata is longer than ${MAX_METADATA_CHARS} characters`,
          );
        }
        records.push(
          offsetCommitRecord(request.groupId, topic.name, partition.partition, {
            offset: partition.committedOffset,
            metadata: partition.metadata,
            commitTimestampMs: this.now(),
          }),
        );
      }
    }
    if (records.length === 0) throw invalidField('topics', 'name at least one partition to commit');
    this.coordinator.authorizeCommit(
      request.groupId,
      request.memberId,
      request.groupInstanceId,
      request.generationId,
    );
    await this.appendAndReplay(request.groupId, records);
  }

  private async appendAndReplay(groupId: string, records: CoordinatorRecord[]): Promise<void> {
    await this.log.append(groupId, records);
    for (const record of records) {
      const decoded = decodeCoordinatorRecord(record.key, record.value);
      if (decoded?.kind === 'offset') this.offsets.replay(decoded.key, decoded.value);
    }
  }

  fetch(request: OffsetFetchRequest): OffsetFetchResponse {
    const all = this.offsets.all(request.groupId);
    const topics =
      request.topics.length > 0
        ? request.topics.map((topic) => ({
            name: topic.name,
            partitions:
              topic.partitions.length > 0
                ? topic.partitions
                : this.store.has(topic.name)
                  ? this.store.get(topic.name).partitions.map((_, index) => index)
                  : all
                      .filter((offset) => offset.topic === topic.name)
                      .map((offset) => offset.partition),
          }))
        : [...new Set(all.map((offset) => offset.topic))].map((name) => ({
            name,
            partitions: all
              .filter((offset) => offset.topic === name)
              .map((offset) => offset.partition),
          }));
    return {
      topics: topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((partition) => {
          const committed = this.offsets.get(request.groupId, topic.name, partition);
          return {
            partition,
            committedOffset: committed?.offset ?? -1,
            metadata: committed?.metadata ?? '',
            commitTimestampMs: committed?.commitTimestampMs ?? 0,
          };
        }),
      })),
    };
  }

  listGroups(request: ListGroupsRequest): ListGroupsResponse {
    return {
      groups: [...this.coordinator.groups.values()]
        .filter((group) => request.states.length === 0 || request.states.includes(group.state))
        .sort((a, b) => byCodeUnits(a.groupId, b.groupId))
        .map((group) => ({
          groupId: group.groupId,
          protocolType: group.protocolType,
          state: group.state,
          members: group.members.size,
        })),
    };
  }

  describeGroup(groupId: string): DescribeGroupResponse {
    const group = this.coordinator.group(groupId);
    if (!group)
      throw new BrokerError(ErrorReason.GROUP_ID_NOT_FOUND, `group ${groupId} does not exist`, {
        group_id: groupId,
      });
    return { group: this.describe(group) };
  }

  /** Every group, described, in group id order. */
  describeAll(): GroupDescription[] {
    return [...this.coordinator.groups.values()]
      .sort((a, b) => byCodeUnits(a.groupId, b.groupId))
      .map((group) => this.describe(group));
  }

  private describe(group: ClassicGroup): GroupDescription {
    const owners = new Map<string, string>();
    const members: MemberDescription[] = [...group.members.values()].map((member) => {
      const assignment = decodeAssignment(group, member.assignment);
      for (const topic of assignment)
        for (const partition of topic.partitions)
          owners.set(`${topic.topic}\u0000${partition}`, member.memberId);
      return {
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId,
        clientId: member.clientId,
        host: member.host,
        assignment,
        idle:
          group.is(GroupState.GROUP_STATE_STABLE) &&
          assignment.every((topic) => topic.partitions.length === 0),
        subscribedTopics: decodeSubscription(group, member.metadataFor(group.protocolName)),
        lastHeartbeatMs: member.lastHeartbeatMs,
        sessionTimeoutMs: member.sessionTimeoutMs,
      };
    });
    const topics = new Set([
      ...subscribedTopics(group),
      ...this.offsets.all(group.groupId).map((offset) => offset.topic),
    ]);
    const offsets: PartitionLag[] = [];
    for (const topic of [...topics].sort()) {
      if (!this.store.has(topic)) continue;
      this.store.get(topic).partitions.forEach((log, partition) => {
        const committed = this.offsets.get(group.groupId, topic, partition)?.offset ?? -1;
        const consumedFrom =
          committed >= 0 ? Math.max(committed, log.logStartOffset) : log.logStartOffset;
        offsets.push({
          topic,
          partition,
          committedOffset: committed,
          logEndOffset: log.logEndOffset,
          lag: Math.max(0, log.logEndOffset - consumedFrom),
          ownerMemberId: owners.get(`${topic}\u0000${partition}`) ?? '',
        });
      });
    }
    return {
      groupId: group.groupId,
      state: group.state,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId,
      members,
      offsets,
      rebalances: group.history.map((record) => ({ ...record })),
    };
  }

  async deleteGroup(groupId: string): Promise<void> {
    const group = this.coordinator.group(groupId);
    if (!group)
      throw new BrokerError(ErrorReason.GROUP_ID_NOT_FOUND, `group ${groupId} does not exist`, {
        group_id: groupId,
      });
    this.coordinator.removeGroup(groupId);
    const tombstones = this.offsets
      .all(groupId)
      .map((offset) => offsetCommitRecord(groupId, offset.topic, offset.partition, undefined));
    await this.appendAndReplay(groupId, [...tombstones, groupTombstone(groupId)]);
    this.logger.info({ group: groupId }, 'group deleted');
  }

  /** kafka-consumer-groups --reset-offsets: only for a group without members. */
  async resetOffsets(request: ResetOffsetsRequest): Promise<ResetOffsetsResponse> {
    if (!request.groupId)
      throw new BrokerError(ErrorReason.INVALID_GROUP_ID, 'group_id must not be empty', {
        field: 'group_id',
      });
    const group = this.coordinator.group(request.groupId);
    if (group && group.members.size > 0) {
      throw new BrokerError(
        ErrorReason.NON_EMPTY_GROUP,
        `group ${request.groupId} has ${group.members.size} active members (${GroupState[group.state]}); stop them before resetting offsets`,
      );
    }
    const topic = this.store.get(request.topic);
    const target = request.target?.target;
    if (!target)
      throw invalidField('target', 'say earliest, latest, offset, timestamp_ms or shift_by');
    const partitions =
      request.partitions.length > 0
        ? request.partitions
        : topic.partitions.map((_, index) => index);
    const changes = partitions.map((partition) => {
      const log = this.store.partition(topic.name, partition);
      const previous = this.offsets.get(request.groupId, topic.name, partition)?.offset ?? -1;
      const clamp = (offset: number) =>
        Math.min(Math.max(offset, log.logStartOffset), log.logEndOffset);
      let next: number;
      switch (target.$case) {
        case 'earliest':
          next = log.logStartOffset;
          break;
        case 'latest':
          next = log.logEndOffset;
          break;
        case 'offset':
          next = clamp(target.value);
          break;
        case 'timestampMs':
          next = log.offsetForTimestamp(target.value) ?? log.logEndOffset;
          break;
        case 'shiftBy':
          next = clamp((previous >= 0 ? previous : log.logStartOffset) + target.value);
          break;
      }
      return { topic: topic.name, partition, previousOffset: previous, newOffset: next };
    });
    if (!request.dryRun) {
      this.coordinator.ensureGroup(request.groupId);
      const records = changes.map((change) =>
        offsetCommitRecord(request.groupId, change.topic, change.partition, {
          offset: change.newOffset,
          metadata: OPERATOR_RESET_METADATA,
          commitTimestampMs: this.now(),
        }),
      );
      await this.appendAndReplay(request.groupId, records);
      this.logger.info(
        { group: request.groupId, topic: topic.name, changes: changes.length },
        'offsets reset',
      );
    }
    return { changes };
  }
}

function decodeAssignment(group: ClassicGroup, bytes: Buffer): TopicPartitions[] {
  if (group.protocolType !== 'consumer' || bytes.length === 0) return [];
  try {
    return ConsumerAssignment.decode(bytes).partitions;
  } catch {
    return [];
  }
}

function decodeSubscription(group: ClassicGroup, bytes: Buffer): string[] {
  if (group.protocolType !== 'consumer' || bytes.length === 0) return [];
  try {
    return ConsumerSubscription.decode(bytes).topics;
  } catch {
    return [];
  }
}
