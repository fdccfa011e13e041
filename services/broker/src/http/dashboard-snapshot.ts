import {
  groupStateLabel,
  rebalanceTriggerLabel,
  type GroupDescription,
  type TopicDescription,
} from '@hospital/proto';
import {
  type ControlsView,
  type DashboardSnapshot,
  type GroupView,
  type PartitionView,
  type TopicView,
} from '@hospital/admin-api';
import { GroupSeries } from './group-series';
import type { RateTracker } from './rate-tracker';

/** Assignors whose rebalances are incremental: kept partitions never stop. */
const COOPERATIVE_ASSIGNORS = new Set(['cooperative-sticky']);

export interface SnapshotInput {
  nowMs: number;
  topics: TopicDescription[];
  groups: GroupDescription[];
  controls: ControlsView;
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/**
 * Turns the broker's own descriptions into the dashboard's view and feeds the
 * rate tracker with this moment's counters (so calling it once per tick is
 * what makes the rates).
 */
export function buildDashboardSnapshot(
  input: SnapshotInput,
  rates: RateTracker,
  series: GroupSeries = new GroupSeries(),
): DashboardSnapshot {
  const seen = new Set<string>();
  const rateOf = (key: string, value: number) => {
    seen.add(key);
    rates.record(key, value, input.nowMs);
    return Math.round(rates.perSecond(key) * 10) / 10;
  };
  const topics = input.topics.map((topic): TopicView => {
    const partitions = topic.partitions.map(
      ({ partition, logStartOffset, logEndOffset, sizeBytes }) => ({
        partition,
        logStartOffset,
        logEndOffset,
        sizeBytes,
      }),
    );
    return {
      name: topic.name,
      internal: topic.internal,
      partitions,
      produceRate: rateOf(
        `topic\u0000${topic.name}`,
        sum(partitions.map((partition) => partition.logEndOffset)),
      ),
    };
  });
  const groups = input.groups.map((group): GroupView => {
    const clientIds = new Map(group.members.map((member) => [member.memberId, member.clientId]));
    const partitions = group.offsets.map((offset): PartitionView => ({
      topic: offset.topic,
      partition: offset.partition,
      ownerMemberId: offset.ownerMemberId,
      ownerClientId: clientIds.get(offset.ownerMemberId) ?? '',
      committedOffset: offset.committedOffset,
      logEndOffset: offset.logEndOffset,
      lag: offset.lag,
    }));
    const totalLag = sum(partitions.map((partition) => partition.lag));
    const consumeRate = rateOf(
      `group\u0000${group.groupId}`,
      sum(partitions.map((partition) => Math.max(0, partition.committedOffset))),
    );
    series.record(group.groupId, { atMs: input.nowMs, lag: totalLag, consumeRate });
    return {
      groupId: group.groupId,
      state: groupStateLabel(group.state),
      rebalanceProtocol: COOPERATIVE_ASSIGNORS.has(group.protocolName) ? 'cooperative' : 'eager',
      generationId: group.generationId,
      protocol: group.protocolName,
      leaderMemberId: group.leader,
      members: group.members.map((member) => ({
        memberId: member.memberId,
        clientId: member.clientId,
        host: member.host,
        instanceId: member.groupInstanceId,
        leader: member.memberId === group.leader,
        idle: member.idle,
        assignment: member.assignment.flatMap((topic) =>
          topic.partitions.map((partition) => `${topic.topic}-${partition}`),
        ),
        heartbeatAgeMs: Math.max(0, input.nowMs - member.lastHeartbeatMs),
        sessionTimeoutMs: member.sessionTimeoutMs,
      })),
      partitions,
      totalLag,
      consumeRate,
      series: series.of(group.groupId),
      rebalances: group.rebalances
        .map((record) => ({
          generationId: record.generationId,
          trigger: rebalanceTriggerLabel(record.trigger),
          reason: record.reason,
          startedMs: record.startedMs,
          endedMs: record.endedMs || undefined,
          pauseMs: record.endedMs ? record.endedMs - record.startedMs : undefined,
          members: record.members,
        }))
        .reverse(),
    };
  });
  rates.retain(seen);
  series.retain(new Set(groups.map((group) => group.groupId)));
  return { atMs: input.nowMs, topics, groups, controls: input.controls };
}
