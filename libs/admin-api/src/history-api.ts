// A group's rebalances as message sequences: served as JSON by the broker
// (/api/groups/<group>/history), drawn by the dashboard and printed by
// `hospital groups history <group>`. Built from the gRPC GroupHistory answer.
import {
  ProtocolMessageKind,
  rebalanceTriggerLabel,
  type GroupHistoryResponse,
  type ProtocolMessage,
  type RebalanceRecord,
} from '@hospital/proto';

export type MessageKindView =
  | 'JoinGroup'
  | 'JoinGroup answer'
  | 'SyncGroup'
  | 'SyncGroup answer'
  | 'first Fetch'
  | 'LeaveGroup';

export interface ShareView {
  clientId: string;
  memberId: string;
  /** "topic-partition" names. */
  partitions: string[];
}

/** One arrow of the sequence diagram, numbered as the source material numbers them. */
export interface MessageView {
  number: number;
  atMs: number;
  /** Since the sequence's first message. */
  sinceStartMs: number;
  kind: MessageKindView;
  /** "coordinator" or the member's client id. */
  from: string;
  to: string;
  summary: string;
  /** The leader's JoinGroup answer: every member's client id. */
  members: string[];
  /** The leader's SyncGroup: every share; a SyncGroup answer: the member's own. */
  shares: ShareView[];
  error: string | undefined;
}

export interface RebalanceSequenceView {
  generationId: number;
  protocol: string;
  leaderClientId: string;
  /** What started it, when the group's history still has the record. */
  trigger: string | undefined;
  reason: string | undefined;
  startedMs: number | undefined;
  /** How long the group was paused (eager: everyone), while the record exists. */
  pauseMs: number | undefined;
  joinEndedMs: number;
  messages: MessageView[];
  /** Messages past the broker's bound per generation. */
  dropped: number;
}

export interface GroupHistoryView {
  groupId: string;
  /** Newest first. */
  sequences: RebalanceSequenceView[];
}

export const COORDINATOR = 'coordinator';

const KINDS: Record<ProtocolMessageKind, MessageKindView | undefined> = {
  [ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_UNSPECIFIED]: undefined,
  [ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_JOIN_REQUEST]: 'JoinGroup',
  [ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_JOIN_RESPONSE]: 'JoinGroup answer',
  [ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_SYNC_REQUEST]: 'SyncGroup',
  [ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_SYNC_RESPONSE]: 'SyncGroup answer',
  [ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_FIRST_FETCH]: 'first Fetch',
  [ProtocolMessageKind.PROTOCOL_MESSAGE_KIND_LEAVE_REQUEST]: 'LeaveGroup',
  [ProtocolMessageKind.UNRECOGNIZED]: undefined,
};

/** Answers go from the coordinator to the member; everything else the other way. */
const FROM_COORDINATOR = new Set<MessageKindView>(['JoinGroup answer', 'SyncGroup answer']);

/** The gRPC answer as the JSON view, newest generation first. */
export function groupHistoryView(
  groupId: string,
  response: GroupHistoryResponse,
): GroupHistoryView {
  const records = new Map<number, RebalanceRecord>(
    response.rebalances.map((record) => [record.generationId, record]),
  );
  return {
    groupId,
    sequences: response.sequences
      .map((sequence) => {
        const clients = new Map<string, string>();
        for (const message of sequence.messages) {
          if (message.memberId && message.clientId) clients.set(message.memberId, message.clientId);
          for (const share of message.shares)
            if (share.clientId) clients.set(share.memberId, share.clientId);
        }
        const name = (memberId: string) => clients.get(memberId) ?? memberId;
        const record = records.get(sequence.generationId);
        const firstMs = sequence.messages[0]?.atMs ?? sequence.joinEndedMs;
        return {
          generationId: sequence.generationId,
          protocol: sequence.protocolName,
          leaderClientId: name(sequence.leader),
          trigger: record ? rebalanceTriggerLabel(record.trigger) : undefined,
          reason: record?.reason,
          startedMs: record?.startedMs,
          pauseMs: record?.endedMs ? record.endedMs - record.startedMs : undefined,
          joinEndedMs: sequence.joinEndedMs,
          dropped: sequence.dropped,
          messages: sequence.messages.flatMap((message, index) =>
            messageView(message, index + 1, firstMs, name),
          ),
        };
      })
      .reverse(),
  };
}

function messageView(
  message: ProtocolMessage,
  number: number,
  firstMs: number,
  name: (memberId: string) => string,
): MessageView[] {
  const kind = KINDS[message.kind];
  if (!kind) return [];
  const member = message.clientId || name(message.memberId) || '(new member)';
  const answer = FROM_COORDINATOR.has(kind);
  return [
    {
      number,
      atMs: message.atMs,
      sinceStartMs: message.atMs - firstMs,
      kind,
      from: answer ? COORDINATOR : member,
      to: answer ? member : COORDINATOR,
      summary: message.summary,
      members: message.members.map(name),
      shares: message.shares.map((share) => ({
        clientId: share.clientId || name(share.memberId),
        memberId: share.memberId,
        partitions: share.partitions.flatMap((topic) =>
          topic.partitions.map((partition) => `${topic.topic}-${partition}`),
        ),
      })),
      error: message.error || undefined,
    },
  ];
}

/** The sequence as text, one numbered line per message (`hospital groups history`). */
export function formatSequence(sequence: RebalanceSequenceView): string[] {
  const cause = sequence.trigger
    ? `${sequence.trigger}${sequence.reason ? ` (${sequence.reason})` : ''}`
    : 'cause no longer in the history';
  const pause = sequence.pauseMs === undefined ? '' : `, paused ${sequence.pauseMs} ms`;
  const lines = [
    `generation ${sequence.generationId}: ${cause}; protocol ${sequence.protocol || '-'}, leader ${sequence.leaderClientId || '-'}${pause}`,
  ];
  for (const message of sequence.messages) {
    const at = `+${message.sinceStartMs} ms`.padStart(10);
    const arrow = `${message.from} → ${message.to}`;
    lines.push(
      `  ${String(message.number).padStart(3)} ${at}  ${arrow.padEnd(36)} ${message.summary}${message.error ? `: ${message.error}` : ''}`,
    );
    if (message.members.length > 0)
      lines.push(`${' '.repeat(18)}members: ${message.members.join(', ')}`);
    for (const share of message.shares)
      lines.push(
        `${' '.repeat(18)}${share.clientId} ← ${share.partitions.join(', ') || '(none: idle)'}`,
      );
  }
  if (sequence.dropped > 0)
    lines.push(`  … ${sequence.dropped} more message(s) past the broker's bound`);
  return lines;
}
