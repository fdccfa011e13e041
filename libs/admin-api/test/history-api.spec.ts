import {
  ProtocolMessageKind as Kind,
  RebalanceTrigger,
  type GroupHistoryResponse,
  type ProtocolMessage,
} from '@hospital/proto';
import { formatSequence, groupHistoryView } from '../src/history-api';

const message = (
  kind: Kind,
  atMs: number,
  memberId: string,
  clientId: string,
  extra: Partial<ProtocolMessage> = {},
): ProtocolMessage => ({
  atMs,
  kind,
  memberId,
  clientId,
  summary: '',
  members: [],
  shares: [],
  error: '',
  ...extra,
});

const RESPONSE: GroupHistoryResponse = {
  rebalances: [
    {
      generationId: 2,
      trigger: RebalanceTrigger.REBALANCE_TRIGGER_MEMBER_JOINED,
      reason: 'billing-2 joined',
      startedMs: 100,
      endedMs: 130,
      members: 2,
    },
  ],
  sequences: [
    {
      generationId: 2,
      leader: 'm-a',
      protocolName: 'range',
      joinEndedMs: 110,
      dropped: 0,
      messages: [
        message(Kind.PROTOCOL_MESSAGE_KIND_JOIN_REQUEST, 100, 'm-b', 'billing-2'),
        message(Kind.PROTOCOL_MESSAGE_KIND_JOIN_RESPONSE, 110, 'm-a', 'billing-1', {
          members: ['m-a', 'm-b'],
        }),
        message(Kind.PROTOCOL_MESSAGE_KIND_SYNC_REQUEST, 120, 'm-a', 'billing-1', {
          shares: [
            {
              memberId: 'm-a',
              clientId: 'billing-1',
              partitions: [{ topic: 'patient.checkout', partitions: [0, 1] }],
            },
            {
              memberId: 'm-b',
              clientId: '',
              partitions: [{ topic: 'patient.checkout', partitions: [2, 3] }],
            },
          ],
        }),
      ],
    },
  ],
};

describe('a group history as the dashboard and the CLI show it', () => {
  it('numbers the messages, draws answers from the coordinator and names members by client id', () => {
    const [sequence] = groupHistoryView('billing', RESPONSE).sequences;
    expect(sequence).toMatchObject({
      generationId: 2,
      leaderClientId: 'billing-1',
      trigger: 'member joined',
      pauseMs: 30,
    });
    expect(sequence.messages.map((m) => [m.number, m.from, m.to, m.sinceStartMs])).toEqual([
      [1, 'billing-2', 'coordinator', 0],
      [2, 'coordinator', 'billing-1', 10],
      [3, 'billing-1', 'coordinator', 20],
    ]);
    expect(sequence.messages[1].members).toEqual(['billing-1', 'billing-2']);
    expect(sequence.messages[2].shares.map((s) => [s.clientId, s.partitions])).toEqual([
      ['billing-1', ['patient.checkout-0', 'patient.checkout-1']],
      ['billing-2', ['patient.checkout-2', 'patient.checkout-3']],
    ]);
  });

  it('prints one numbered line per message with the shares under the leader’s SyncGroup', () => {
    const lines = formatSequence(groupHistoryView('billing', RESPONSE).sequences[0]);
    expect(lines[0]).toBe(
      'generation 2: member joined (billing-2 joined); protocol range, leader billing-1, paused 30 ms',
    );
    expect(lines[3]).toMatch(/members: billing-1, billing-2$/);
    expect(lines[4]).toMatch(/^\s+3\s+\+20 ms\s+billing-1 → coordinator/);
    expect(lines.slice(5)).toEqual([
      expect.stringMatching(/billing-1 ← patient\.checkout-0, patient\.checkout-1$/),
      expect.stringMatching(/billing-2 ← patient\.checkout-2, patient\.checkout-3$/),
    ]);
  });
});
