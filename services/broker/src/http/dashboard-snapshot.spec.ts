import {
  GroupState,
  RebalanceTrigger,
  type GroupDescription,
  type TopicDescription,
} from '@hospital/proto';
import { type ControlsView } from '@hospital/admin-api';
import { buildDashboardSnapshot } from './dashboard-snapshot';
import { RateTracker } from './rate-tracker';

const noControls: ControlsView = { available: false, reason: 'no supervisor', replicas: [] };

function topic(logEnds: number[]): TopicDescription {
  return {
    name: 'patient.checkout',
    internal: false,
    config: undefined,
    maxBatchBytes: 1024 * 1024,
    partitions: logEnds.map((logEndOffset, partition) => ({
      partition,
      logStartOffset: 0,
      logEndOffset,
      sizeBytes: logEndOffset * 300,
      segmentCount: 1,
    })),
  };
}

function billing(committed: number[]): GroupDescription {
  const member = (memberId: string, clientId: string, partitions: number[]) => ({
    memberId,
    groupInstanceId: undefined,
    clientId,
    host: '127.0.0.1',
    assignment: partitions.length ? [{ topic: 'patient.checkout', partitions }] : [],
    idle: partitions.length === 0,
    subscribedTopics: ['patient.checkout'],
    lastHeartbeatMs: 9_000,
    sessionTimeoutMs: 10_000,
  });
  return {
    groupId: 'billing',
    state: GroupState.GROUP_STATE_STABLE,
    generationId: 3,
    protocolType: 'consumer',
    protocolName: 'range',
    leader: 'm1',
    members: [
      member('m1', 'billing-1', [0]),
      member('m2', 'billing-2', [1]),
      member('m3', 'billing-3', []),
    ],
    offsets: committed.map((committedOffset, partition) => ({
      topic: 'patient.checkout',
      partition,
      committedOffset,
      logEndOffset: 100,
      lag: 100 - Math.max(0, committedOffset),
      ownerMemberId: partition === 0 ? 'm1' : 'm2',
    })),
    rebalances: [
      {
        generationId: 2,
        trigger: RebalanceTrigger.REBALANCE_TRIGGER_MEMBER_JOINED,
        reason: 'billing-2 joined',
        startedMs: 1_000,
        endedMs: 1_400,
        members: 2,
      },
      {
        generationId: 3,
        trigger: RebalanceTrigger.REBALANCE_TRIGGER_SESSION_TIMEOUT,
        reason: 'billing-4 missed heartbeats',
        startedMs: 5_000,
        endedMs: 0,
        members: 3,
      },
    ],
  };
}

describe('broker/http/buildDashboardSnapshot', () => {
  it('names owners by client id, marks the leader and idle members, and sums the lag', () => {
    const snapshot = buildDashboardSnapshot(
      {
        nowMs: 10_000,
        topics: [topic([100, 100])],
        groups: [billing([60, -1])],
        controls: noControls,
      },
      new RateTracker(),
    );
    const [group] = snapshot.groups;
    expect(group).toMatchObject({
      groupId: 'billing',
      state: 'Stable',
      generationId: 3,
      totalLag: 140,
    });
    expect(group.partitions.map((partition) => partition.ownerClientId)).toEqual([
      'billing-1',
      'billing-2',
    ]);
    expect(
      group.members.map(({ clientId, leader, idle, assignment }) => ({
        clientId,
        leader,
        idle,
        assignment,
      })),
    ).toEqual([
      { clientId: 'billing-1', leader: true, idle: false, assignment: ['patient.checkout-0'] },
      { clientId: 'billing-2', leader: false, idle: false, assignment: ['patient.checkout-1'] },
      { clientId: 'billing-3', leader: false, idle: true, assignment: [] },
    ]);
    expect(group.members[0].heartbeatAgeMs).toBe(1_000);
  });

  it('lists rebalances newest first with their trigger and pause', () => {
    const snapshot = buildDashboardSnapshot(
      { nowMs: 10_000, topics: [], groups: [billing([0, 0])], controls: noControls },
      new RateTracker(),
    );
    expect(snapshot.groups[0].rebalances).toEqual([
      expect.objectContaining({
        generationId: 3,
        trigger: 'session timeout',
        endedMs: undefined,
        pauseMs: undefined,
      }),
      expect.objectContaining({
        generationId: 2,
        trigger: 'member joined',
        reason: 'billing-2 joined',
        pauseMs: 400,
      }),
    ]);
  });

  it('derives produce and consume rates from successive snapshots', () => {
    const rates = new RateTracker();
    buildDashboardSnapshot(
      { nowMs: 0, topics: [topic([10, 10])], groups: [billing([5, 5])], controls: noControls },
      rates,
    );
    const later = buildDashboardSnapshot(
      {
        nowMs: 2_000,
        topics: [topic([110, 50])],
        groups: [billing([45, 25])],
        controls: noControls,
      },
      rates,
    );
    expect(later.topics[0].produceRate).toBe(70);
    expect(later.groups[0].consumeRate).toBe(30);
  });
});
