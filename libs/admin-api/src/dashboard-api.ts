// The broker dashboard's data, as JSON: served by the broker's admin HTTP
// port (/api/snapshot, and /api/events as server-sent events), drawn by
// services/broker/dashboard/dashboard.js (type-checked against these types)
// and read by the compose smoke test.
import type { ReplicaView } from './supervisor-api';

/** What the dashboard shows, as plain JSON: one of these per update. */
export interface DashboardSnapshot {
  atMs: number;
  topics: TopicView[];
  groups: GroupView[];
  controls: ControlsView;
}

export interface TopicView {
  name: string;
  internal: boolean;
  partitions: {
    partition: number;
    logStartOffset: number;
    logEndOffset: number;
    sizeBytes: number;
  }[];
  /** Records appended per second over the last few seconds, all partitions. */
  produceRate: number;
}

export interface MemberView {
  memberId: string;
  clientId: string;
  host: string;
  instanceId: string | undefined;
  leader: boolean;
  /** More members than partitions: this one owns none (and that is not an error). */
  idle: boolean;
  /** "topic-partition" names, as Kafka prints them. */
  assignment: string[];
  heartbeatAgeMs: number;
  sessionTimeoutMs: number;
}

export interface PartitionView {
  topic: string;
  partition: number;
  ownerMemberId: string;
  ownerClientId: string;
  /** -1 when nothing was committed. */
  committedOffset: number;
  logEndOffset: number;
  lag: number;
}

export interface RebalanceView {
  generationId: number;
  trigger: string;
  reason: string;
  startedMs: number;
  /** Undefined while it runs. */
  endedMs: number | undefined;
  /** Eager rebalancing stops the whole group: this is how long nobody consumed. */
  pauseMs: number | undefined;
  members: number;
}

/** One point of a group's chart: once a second, the last few minutes. */
export interface SeriesSampleView {
  atMs: number;
  lag: number;
  consumeRate: number;
}

export interface GroupView {
  groupId: string;
  state: string;
  /** eager: every member stops during a rebalance; cooperative: only the partitions that move. */
  rebalanceProtocol: 'eager' | 'cooperative';
  generationId: number;
  protocol: string;
  leaderMemberId: string;
  members: MemberView[];
  partitions: PartitionView[];
  totalLag: number;
  /** Committed offsets advanced per second over the last few seconds, all partitions. */
  consumeRate: number;
  /** Lag and consume rate over the last minutes, oldest first. */
  series: SeriesSampleView[];
  /** Most recent first. */
  rebalances: RebalanceView[];
}

export interface ControlsView {
  /** False when no supervisor is configured or it does not answer; `reason` says which. */
  available: boolean;
  reason?: string;
  replicas: ReplicaView[];
}
