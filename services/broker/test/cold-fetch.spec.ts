import { once } from 'node:events';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startBroker, type BrokerProcess } from '@hospital/processes';
import { Acks, GroupState, RebalanceTrigger } from '@hospital/proto';
import { batchOf, BrokerRpc } from './support/broker-rpc';
import { GroupDriver, settled } from './support/group-driver';

const DATA = 'cold.data';
const MEMBERS = 50;
const FETCH_BYTES = 16 * 1024 * 1024;

/**
 * Reads are page-cache copies on the event loop; a cold one comes from the
 * disk. The broker reads a big fetch a slice per turn, so heartbeats are
 * answered in between and no session times out.
 */
describe('broker: a cold 16 MiB fetch while 50 members heartbeat at a 2,000 ms session timeout', () => {
  let broker: BrokerProcess | undefined;
  const drivers: GroupDriver[] = [];
  const rpcs: BrokerRpc[] = [];
  afterAll(async () => {
    for (const driver of drivers) driver.halt();
    for (const rpc of rpcs) rpc.close();
    await broker?.kill();
    broker?.cleanup();
  });

  it('expels no member', async () => {
    broker = await startBroker({
      env: {
        BROKER_TOPICS: `${DATA}:1,heartbeats:1`,
        BROKER_GROUP_MIN_SESSION_TIMEOUT_MS: '500',
        // Everyone joins the one generation the test then watches.
        BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '2000',
        BROKER_MAX_REQUEST_BYTES: String(FETCH_BYTES + 2 * 1024 * 1024),
      },
    });
    const producer = new BrokerRpc(broker.address);
    rpcs.push(producer);
    const value = 'c'.repeat(1_000);
    for (let batch = 0; batch < 17; batch++)
      await producer.call('produce', {
        acks: Acks.ACKS_ALL,
        timeoutMs: 10_000,
        topics: [
          {
            name: DATA,
            partitions: [
              { partition: 0, batch: batchOf(Array.from({ length: 1_000 }, () => ({ value }))) },
            ],
          },
        ],
      });

    const members = new BrokerRpc(broker.address);
    rpcs.push(members);
    for (let index = 0; index < MEMBERS; index++)
      drivers.push(
        new GroupDriver(members, {
          groupId: 'heartbeats',
          clientId: `member-${index}`,
          topic: 'heartbeats',
          // 1,000 ms expelled members now and then inside a full `npm test`,
          // with no fetch to blame: other suites starve this broker of CPU.
          sessionTimeoutMs: 2_000,
          rebalanceTimeoutMs: 10_000,
          heartbeatIntervalMs: 100,
        }),
      );
    await Promise.all(drivers.map((driver) => driver.start()));
    // On a busy machine the 50 may arrive over more than one generation: wait for the last.
    const describeGroup = async () =>
      (await members.call('describeGroup', { groupId: 'heartbeats' })).group!;
    let before: Awaited<ReturnType<typeof describeGroup>>;
    for (;;) {
      const generation = await settled(drivers, 0);
      before = await describeGroup();
      if (
        before.state === GroupState.GROUP_STATE_STABLE &&
        before.members.length === MEMBERS &&
        before.generationId === generation
      )
        break;
      await Promise.race(drivers.map((driver) => driver.nextAssignment()));
    }

    // Only this segment leaves the page cache (dd's nocache is posix_fadvise
    // DONTNEED): dropping every cache would stall every other test running.
    execFileSync('dd', [
      `if=${join(broker.dataDir, 'topics', DATA, '0', '00000000000000000000.log')}`,
      'iflag=nocache',
      'count=0',
    ]);
    const reader = new BrokerRpc(broker.address, {
      'grpc.max_receive_message_length': FETCH_BYTES + 2 * 1024 * 1024,
    });
    rpcs.push(reader);
    const fetched = await reader.call('fetch', {
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: FETCH_BYTES,
      topics: [
        {
          name: DATA,
          partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: FETCH_BYTES }],
        },
      ],
    });
    const bytes = fetched.topics[0].partitions[0].batches.reduce(
      (sum, batch) => sum + batch.records.length,
      0,
    );
    expect(bytes).toBeGreaterThan(15 * 1024 * 1024);
    // More than a session timeout of heartbeats after the fetch, from everyone.
    await Promise.all(
      drivers.map(async (driver) => {
        for (let beat = 0; beat < 5; beat++) await once(driver, 'heartbeat');
      }),
    );

    const after = await describeGroup();
    // The reasons say who was expelled and how long its heartbeats were missing.
    expect(
      after.rebalances
        .filter((r) => r.trigger === RebalanceTrigger.REBALANCE_TRIGGER_SESSION_TIMEOUT)
        .map((r) => r.reason),
    ).toEqual([]);
    expect([after.generationId, after.members.length]).toEqual([before.generationId, MEMBERS]);
  });
});
