import type { Step } from './coordinator-result';
import { onInitialDelayEnded, onJoinTimeout } from './rebalance';
import { onPendingMemberExpired, onSessionExpired } from './session';
import { onSyncTimeout } from './sync';
import type { TimerExpiry } from './timer-expiry';

/** The handler a timer runs when it fires. */
export function onTimerExpired(expiry: TimerExpiry): Step {
  switch (expiry.kind) {
    case 'session':
      return onSessionExpired(expiry.groupId, expiry.memberId);
    case 'pending-member':
      return onPendingMemberExpired(expiry.groupId, expiry.memberId);
    case 'join':
      return onJoinTimeout(expiry.groupId);
    case 'initial-delay':
      return onInitialDelayEnded(expiry.groupId);
    case 'sync':
      return onSyncTimeout(expiry.groupId, expiry.generationId);
  }
}
