import type {
  internal,
  JoinGroupResponse,
  RebalanceTrigger,
  SyncGroupResponse,
} from '@hospital/proto';
import type { BrokerError } from '../../errors/broker-error';
import type { HeldAnswer, MemberSpec } from '../state/group-member';
import type { HeldResponse } from '../runtime/held-response';

/**
 * Everything that changes coordinator state, as data. Handlers return these;
 * the shard's replay is the only code that applies them.
 *
 * The first three are durable: the runtime writes them to __consumer_offsets
 * and replays them once the write is durable, and every start replays them
 * again from the log. The rest describe the classic protocol's in-memory
 * life (who waits in JoinGroup, which rebalance is running), which Kafka does
 * not persist either; they are replayed as soon as they are returned.
 */
export type GroupRecord = DurableRecord | MembershipRecord;

export type DurableRecord =
  | { type: 'group-metadata'; groupId: string; value: internal.GroupMetadataValue }
  | { type: 'group-tombstone'; groupId: string }
  | {
      type: 'offset-commit';
      groupId: string;
      topic: string;
      partition: number;
      /** Undefined: a tombstone, the offset is deleted. */
      value: internal.OffsetCommitValue | undefined;
    };

export type MembershipRecord =
  | {
      type: 'member-id-issued';
      groupId: string;
      memberId: string;
      expiresInMs: number;
      atMs: number;
    }
  | { type: 'pending-member-removed'; groupId: string; memberId: string }
  | { type: 'member-added'; groupId: string; spec: MemberSpec; atMs: number }
  | { type: 'member-updated'; groupId: string; spec: MemberSpec }
  | {
      type: 'static-member-replaced';
      groupId: string;
      previousId: string;
      spec: MemberSpec;
      atMs: number;
      /** What the replaced instance's held calls fail with. */
      failure: BrokerError;
    }
  | { type: 'member-removed'; groupId: string; memberId: string; failure: BrokerError }
  | { type: 'member-heartbeat'; groupId: string; memberId: string; atMs: number }
  /** A member waiting in JoinGroup is alive: its session restarts without a heartbeat. */
  | { type: 'session-extended'; groupId: string; memberId: string }
  | {
      type: 'join-held';
      groupId: string;
      memberId: string;
      held: HeldResponse<JoinGroupResponse>;
    }
  | {
      type: 'join-answered';
      groupId: string;
      memberId: string;
      answer: HeldAnswer<JoinGroupResponse>;
    }
  | {
      type: 'sync-held';
      groupId: string;
      memberId: string;
      held: HeldResponse<SyncGroupResponse>;
    }
  | {
      type: 'sync-answered';
      groupId: string;
      memberId: string;
      answer: HeldAnswer<SyncGroupResponse>;
    }
  | {
      type: 'rebalance-started';
      groupId: string;
      trigger: RebalanceTrigger;
      reason: string;
      atMs: number;
      joinTimeoutMs: number;
      /** More than 0 only for an Empty group's first rebalance. */
      initialDelayMs: number;
    }
  | { type: 'initial-delay-ended'; groupId: string }
  | {
      type: 'join-completed';
      groupId: string;
      generationId: number;
      protocolName: string;
      leaderId: string;
      atMs: number;
      syncTimeoutMs: number;
    };

const DURABLE_TYPES: ReadonlySet<GroupRecord['type']> = new Set([
  'group-metadata',
  'group-tombstone',
  'offset-commit',
]);

export function isDurable(record: GroupRecord): record is DurableRecord {
  return DURABLE_TYPES.has(record.type);
}
