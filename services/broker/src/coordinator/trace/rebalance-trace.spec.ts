import {
  ConsumerAssignment,
  ConsumerSubscription,
  ProtocolMessageKind as Kind,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type SyncGroupRequest,
} from '@hospital/proto';
import { RebalanceTrace } from './rebalance-trace';

const GROUP = 'billing';

function join(memberId: string, clientId: string): JoinGroupRequest {
  return {
    groupId: GROUP,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId,
    protocolType: 'consumer',
    protocols: [
      {
        name: 'range',
        metadata: Buffer.from(
          ConsumerSubscription.encode({
            topics: ['patient.checkout'],
            userData: Buffer.alloc(0),
            ownedPartitions: [],
            generationId: -1,
          }).finish(),
        ),
      },
    ],
    clientId,
    reason: '',
  };
}

function answer(memberId: string, generationId: number, members: string[]): JoinGroupResponse {
  return {
    generationId,
    protocolType: 'consumer',
    protocolName: 'range',
    leader: 'm-a',
    memberId,
    members: members.map((id) => ({
      memberId: id,
      metadata: Buffer.alloc(0),
      clientId: id === 'm-a' ? 'billing-1' : 'billing-2',
      host: '127.0.0.1',
    })),
  };
}

const share = (partitions: number[]) =>
  Buffer.from(
    ConsumerAssignment.encode({
      partitions: [{ topic: 'patient.checkout', partitions }],
      userData: Buffer.alloc(0),
    }).finish(),
  );

function sync(memberId: string, generationId: number, leader: boolean): SyncGroupRequest {
  return {
    groupId: GROUP,
    generationId,
    memberId,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: leader
      ? [
          { memberId: 'm-a', assignment: share([0, 1]) },
          { memberId: 'm-b', assignment: share([2, 3]) },
        ]
      : [],
  };
}

/** Two members join one after the other and sync, as the source material numbers it. */
function twoMembersJoin(trace: RebalanceTrace): void {
  trace.joinRequested(join('', 'billing-1'), 1);
  trace.joinFailed(join('', 'billing-1'), new Error('MEMBER_ID_REQUIRED'), 2);
  trace.joinRequested(join('m-a', 'billing-1'), 3);
  trace.joinRequested(join('m-b', 'billing-2'), 4);
  trace.joinAnswered(GROUP, 'billing-1', answer('m-a', 1, ['m-a', 'm-b']), 10);
  trace.joinAnswered(GROUP, 'billing-2', answer('m-b', 1, []), 10);
  trace.syncRequested(sync('m-b', 1, false), 11);
  trace.syncRequested(sync('m-a', 1, true), 12);
  trace.syncAnswered(
    sync('m-a', 1, true),
    { protocolType: 'consumer', protocolName: 'range', assignment: share([0, 1]) },
    undefined,
    13,
  );
  trace.syncAnswered(
    sync('m-b', 1, false),
    { protocolType: 'consumer', protocolName: 'range', assignment: share([2, 3]) },
    undefined,
    13,
  );
}

describe('the rebalance trace', () => {
  it('files the join phase under the generation its answers name, in arrival order', () => {
    const trace = new RebalanceTrace();
    twoMembersJoin(trace);
    const [sequence] = trace.history(GROUP);
    expect(sequence).toMatchObject({ generationId: 1, leader: 'm-a', joinEndedMs: 10 });
    expect(sequence.messages.map((m) => [m.kind, m.clientId])).toEqual([
      [Kind.PROTOCOL_MESSAGE_KIND_JOIN_REQUEST, 'billing-1'],
      [Kind.PROTOCOL_MESSAGE_KIND_JOIN_RESPONSE, 'billing-1'],
      [Kind.PROTOCOL_MESSAGE_KIND_JOIN_REQUEST, 'billing-1'],
      [Kind.PROTOCOL_MESSAGE_KIND_JOIN_REQUEST, 'billing-2'],
      [Kind.PROTOCOL_MESSAGE_KIND_JOIN_RESPONSE, 'billing-1'],
      [Kind.PROTOCOL_MESSAGE_KIND_JOIN_RESPONSE, 'billing-2'],
      [Kind.PROTOCOL_MESSAGE_KIND_SYNC_REQUEST, 'billing-2'],
      [Kind.PROTOCOL_MESSAGE_KIND_SYNC_REQUEST, 'billing-1'],
      [Kind.PROTOCOL_MESSAGE_KIND_SYNC_RESPONSE, 'billing-1'],
      [Kind.PROTOCOL_MESSAGE_KIND_SYNC_RESPONSE, 'billing-2'],
    ]);
    expect(sequence.messages[1].error).toBe('MEMBER_ID_REQUIRED');
    expect(sequence.messages[0].summary).toContain('topics patient.checkout');
  });

  it('shows the member list only in the leader’s answer, every share only in the leader’s SyncGroup', () => {
    const trace = new RebalanceTrace();
    twoMembersJoin(trace);
    const messages = trace.history(GROUP)[0].messages;
    const joinAnswers = messages.filter(
      (m) => m.kind === Kind.PROTOCOL_MESSAGE_KIND_JOIN_RESPONSE && !m.error,
    );
    expect(joinAnswers.map((m) => m.members)).toEqual([['m-a', 'm-b'], []]);
    const leaderSync = messages.find(
      (m) => m.kind === Kind.PROTOCOL_MESSAGE_KIND_SYNC_REQUEST && m.memberId === 'm-a',
    );
    expect(leaderSync?.shares.map((s) => [s.clientId, s.partitions[0].partitions])).toEqual([
      ['billing-1', [0, 1]],
      ['billing-2', [2, 3]],
    ]);
    const answers = messages.filter((m) => m.kind === Kind.PROTOCOL_MESSAGE_KIND_SYNC_RESPONSE);
    expect(answers.map((m) => m.shares.map((s) => s.partitions[0].partitions))).toEqual([
      [[0, 1]],
      [[2, 3]],
    ]);
  });

  it('records each member’s first fetch of a partition it was given, once', () => {
    const trace = new RebalanceTrace();
    twoMembersJoin(trace);
    trace.fetched('billing-2', [{ topic: 'patient.checkout', partition: 0 }], 20); // not its own
    trace.fetched('billing-2', [{ topic: 'patient.checkout', partition: 3 }], 21);
    trace.fetched('billing-2', [{ topic: 'patient.checkout', partition: 2 }], 22);
    trace.fetched('unknown', [{ topic: 'patient.checkout', partition: 1 }], 23);
    const fetches = trace
      .history(GROUP)[0]
      .messages.filter((m) => m.kind === Kind.PROTOCOL_MESSAGE_KIND_FIRST_FETCH);
    expect(fetches.map((m) => [m.clientId, m.atMs])).toEqual([['billing-2', 21]]);
  });

  it('files a leave and the rejoins after it under the next generation', () => {
    const trace = new RebalanceTrace();
    twoMembersJoin(trace);
    trace.leaveRequested(GROUP, 'm-b', 'the consumer is stopping', 30);
    trace.joinRequested(join('m-a', 'billing-1'), 31);
    trace.joinAnswered(GROUP, 'billing-1', answer('m-a', 2, ['m-a']), 32);
    const [first, second] = trace.history(GROUP);
    expect(first.messages).toHaveLength(10);
    expect(second.messages.map((m) => [m.kind, m.clientId])).toEqual([
      [Kind.PROTOCOL_MESSAGE_KIND_LEAVE_REQUEST, 'billing-2'],
      [Kind.PROTOCOL_MESSAGE_KIND_JOIN_REQUEST, 'billing-1'],
      [Kind.PROTOCOL_MESSAGE_KIND_JOIN_RESPONSE, 'billing-1'],
    ]);
  });

  it('keeps its bounds: generations per group, messages per generation, groups', () => {
    const trace = new RebalanceTrace({
      sequencesPerGroup: 2,
      messagesPerSequence: 3,
      groups: 2,
      awaitingFetch: 10,
    });
    for (let generation = 1; generation <= 4; generation++) {
      for (let i = 0; i < 5; i++) trace.joinRequested(join('m-a', 'billing-1'), generation);
      trace.joinAnswered(GROUP, 'billing-1', answer('m-a', generation, ['m-a']), generation);
    }
    const kept = trace.history(GROUP);
    expect(kept.map((s) => [s.generationId, s.messages.length, s.dropped])).toEqual([
      [3, 3, 3],
      [4, 3, 3],
    ]);
    trace.joinRequested({ ...join('', 'x'), groupId: 'pharmacy' }, 5);
    trace.joinRequested({ ...join('', 'y'), groupId: 'housekeeping' }, 6);
    expect(trace.history(GROUP)).toEqual([]); // touched longest ago, so forgotten first
  });
});
