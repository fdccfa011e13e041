/**
 * The coordinator's timers, as data. Replay schedules and cancels them; when
 * one fires, the runtime runs the handler for its kind like any request.
 */
export type TimerExpiry =
  /** The member sent no heartbeat for its session timeout. */
  | { kind: 'session'; groupId: string; memberId: string }
  /** An id handed out with MEMBER_ID_REQUIRED was never used. */
  | { kind: 'pending-member'; groupId: string; memberId: string }
  /** The rebalance timeout: members that have not rejoined are dropped. */
  | { kind: 'join'; groupId: string }
  /** An Empty group's initial rebalance delay is over. */
  | { kind: 'initial-delay'; groupId: string }
  /** Members that have not sent SyncGroup for this generation are dropped. */
  | { kind: 'sync'; groupId: string; generationId: number };

/** Scheduling a timer of the same kind, group and member again replaces it. */
export interface ShardTimers {
  schedule(expiry: TimerExpiry, delayMs: number): void;
  cancel(expiry: TimerExpiry): void;
}

export function timerKey(expiry: TimerExpiry): string {
  switch (expiry.kind) {
    case 'session':
    case 'pending-member':
      return `${expiry.kind}-${expiry.groupId}-${expiry.memberId}`;
    case 'join':
    case 'initial-delay':
    case 'sync':
      return `${expiry.kind}-${expiry.groupId}`;
  }
}
