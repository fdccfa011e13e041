import { EventEmitter } from 'node:events';
import { status } from '@grpc/grpc-js';
import { ErrorReason } from '@hospital/proto';
import type { BrokerConnection } from '../connection/broker-connection';
import { BrokerClientError } from '../errors';
import { DEFAULT_RETRY } from '../retry';
import { RangeAssignor } from './assignors';
import { GroupMembership } from './membership';

/** A connection that answers the join and sync at once and holds every heartbeat until released. */
function fakeConnection() {
  const heldHeartbeats: (() => void)[] = [];
  const failHeartbeats: ((error: Error) => void)[] = [];
  const watches: EventEmitter[] = [];
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
          return new Promise<void>((resolve, reject) => {
            heldHeartbeats.push(resolve);
            failHeartbeats.push(reject);
          });
        default:
          return Promise.resolve({});
      }
    },
    watchMembership: () => {
      const watch = Object.assign(new EventEmitter(), { cancel: () => {} });
      watches.push(watch);
      return watch;
    },
  };
  return {
    connection: connection as unknown as BrokerConnection,
    calls,
    heldHeartbeats,
    failHeartbeats,
    watches,
  };
}

const OPTIONS = {
  groupId: 'billing',
  sessionTimeoutMs: 10_000,
  rebalanceTimeoutMs: 15_000,
  heartbeatIntervalMs: 100,
  assignors: [new RangeAssignor()],
  retry: DEFAULT_RETRY,
};

describe('broker-client/consumer/GroupMembership', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('keeps at most one heartbeat in flight when the broker is slow to answer', async () => {
    const { connection, calls, heldHeartbeats } = fakeConnection();
    const membership = new GroupMembership(
      connection,
      OPTIONS,
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

  it('ignores a heartbeat answer or a notice that belongs to a generation it has already left: no second rebalance', async () => {
    const { connection, failHeartbeats, watches } = fakeConnection();
    const rejoins: string[] = [];
    const membership = new GroupMembership(
      connection,
      OPTIONS,
      (reason) => rejoins.push(reason),
      () => {},
      () => {},
    );
    await membership.join(['patient.checkout'], [], 'first join');
    await jest.advanceTimersByTimeAsync(100); // a heartbeat goes out and is held
    const staleWatch = watches[0];
    // A rebalance starts; the member rejoins while that heartbeat and notice are still on their way.
    await membership.join(['patient.checkout'], [], 'member joined');
    failHeartbeats[0](
      new BrokerClientError(
        'group billing is rebalancing; rejoin',
        ErrorReason.REBALANCE_IN_PROGRESS,
        status.FAILED_PRECONDITION,
        false,
      ),
    );
    staleWatch.emit('data', { type: 0, reason: 'the coordinator started a rebalance' });
    await jest.advanceTimersByTimeAsync(0);
    expect(rejoins).toEqual([]);
    // The current generation's notice still counts.
    watches.at(-1)!.emit('data', { type: 0, reason: 'member joined' });
    expect(rejoins).toEqual(['member joined']);
    membership.stopHeartbeats();
  });
});
