import { EventEmitter } from 'node:events';
import type { BrokerConnection } from '../connection/broker-connection';
import { DEFAULT_RETRY } from '../retry';
import { RangeAssignor } from './assignors';
import { GroupMembership } from './membership';

/** A connection that answers the join and sync at once and holds every heartbeat until released. */
function fakeConnection() {
  const heldHeartbeats: (() => void)[] = [];
  const calls: string[] = [];
  const connection = {
    clientId: 'fake',
    call: (method: string) => {
      calls.push(method);
      switch (method) {
        case 'joinGroup':
          return Promise.resolve({
            generationId: 1,
            memberId: 'm1',
            leader: 'other',
            protocolName: 'range',
            protocolType: 'consumer',
            members: [],
          });
        case 'syncGroup':
          return Promise.resolve({ assignment: Buffer.alloc(0) });
        case 'heartbeat':
          return new Promise<void>((resolve) => heldHeartbeats.push(resolve));
        default:
          return Promise.resolve({});
      }
    },
    watchMembership: () => Object.assign(new EventEmitter(), { cancel: () => {} }),
  };
  return { connection: connection as unknown as BrokerConnection, calls, heldHeartbeats };
}

describe('broker-client/consumer/GroupMembership', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('keeps at most one heartbeat in flight when the broker is slow to answer', async () => {
    const { connection, calls, heldHeartbeats } = fakeConnection();
    const membership = new GroupMembership(
      connection,
      {
        groupId: 'billing',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 15_000,
        heartbeatIntervalMs: 100,
        assignors: [new RangeAssignor()],
        retry: DEFAULT_RETRY,
      },
      () => {},
      () => {},
      () => {},
    );
    await membership.join(['patient.checkout'], [], 'first join');
    await jest.advanceTimersByTimeAsync(1_000);
    expect(calls.filter((method) => method === 'heartbeat')).toHaveLength(1);
    heldHeartbeats[0]();
    await jest.advanceTimersByTimeAsync(100);
    expect(calls.filter((method) => method === 'heartbeat')).toHaveLength(2);
    membership.stopHeartbeats();
  });
});
