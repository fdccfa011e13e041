import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort, startBroker, type BrokerProcess } from '@hospital/processes';
import { GroupState } from '@hospital/proto';
import { BrokerRpc } from './support/broker-rpc';
import { GroupDriver, settled } from './support/group-driver';
import { startTestBroker } from './support/start-test-broker';

const TOPIC = 'patient.checkout';

const driverFor = (rpc: BrokerRpc, clientId: string, groupInstanceId?: string) =>
  new GroupDriver(rpc, {
    groupId: 'pharmacy',
    clientId,
    topic: TOPIC,
    sessionTimeoutMs: 20_000,
    rebalanceTimeoutMs: 5_000,
    heartbeatIntervalMs: 200,
    groupInstanceId,
  });

describe('coordinator state across a broker SIGKILL', () => {
  it('rebuilds committed offsets and groups from __consumer_offsets', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'coordinator-restart-'));
    const port = await findFreePort();
    const env = {
      BROKER_PORT: String(port),
      BROKER_DATA_DIR: dataDir,
      BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    };
    const processes: BrokerProcess[] = [];
    try {
      processes.push(await startBroker({ env, dataDir, port }));
      const rpc = new BrokerRpc(`127.0.0.1:${port}`);
      const drivers = [driverFor(rpc, 'pharmacy-1'), driverFor(rpc, 'pharmacy-2')];
      for (const driver of drivers) void driver.start();
      await settled(drivers, 0);
      for (const driver of drivers) {
        for (const partition of driver.partitions) await driver.commit(partition, 100 + partition);
      }
      // A second group that only committed offsets (no members), as admin tools do.
      await rpc.call('offsetCommit', {
        groupId: 'audit',
        generationId: -1,
        memberId: '',
        groupInstanceId: undefined,
        topics: [
          { name: TOPIC, partitions: [{ partition: 2, committedOffset: 7, metadata: 'manual' }] },
        ],
      });
      const before = await rpc.call('describeGroup', { groupId: 'pharmacy' });
      const offsetsBefore = await rpc.call('offsetFetch', { groupId: 'pharmacy', topics: [] });
      for (const driver of drivers) driver.halt();

      await processes[0].kill();
      processes.push(await startBroker({ env, dataDir, port }));

      await expect(rpc.call('offsetFetch', { groupId: 'pharmacy', topics: [] })).resolves.toEqual(
        offsetsBefore,
      );
      expect(
        offsetsBefore.topics[0].partitions.map((partition) => partition.committedOffset),
      ).toEqual([100, 101, 102, 103]);
      const after = await rpc.call('describeGroup', { groupId: 'pharmacy' });
      expect(after.group).toMatchObject({
        state: GroupState.GROUP_STATE_STABLE,
        generationId: before.group!.generationId,
        leader: before.group!.leader,
        protocolName: 'range',
      });
      expect(after.group!.members.map((member) => [member.memberId, member.assignment])).toEqual(
        before.group!.members.map((member) => [member.memberId, member.assignment]),
      );
      const groups = await rpc.call('listGroups', { states: [] });
      expect(groups.groups.map((group) => group.groupId)).toEqual(['audit', 'pharmacy']);
      await expect(
        rpc.call('offsetFetch', { groupId: 'audit', topics: [{ name: TOPIC, partitions: [2] }] }),
      ).resolves.toMatchObject({
        topics: [{ partitions: [{ partition: 2, committedOffset: 7, metadata: 'manual' }] }],
      });
      rpc.close();
    } finally {
      for (const broker of processes) await broker.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('static membership over gRPC', () => {
  it('gives a static member that restarts within its session timeout its partitions back, without a new generation', async () => {
    const broker = await startTestBroker({ BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' });
    try {
      const first = driverFor(broker.rpc, 'pharmacy-1', 'pharmacy-host-a');
      const second = driverFor(broker.rpc, 'pharmacy-2', 'pharmacy-host-b');
      void first.start();
      void second.start();
      const generation = await settled([first, second], 0);
      const owned = second.partitions;
      second.halt(); // the process dies...
      const restarted = driverFor(broker.rpc, 'pharmacy-2', 'pharmacy-host-b');
      await restarted.start(); // ...and comes back with the same group.instance.id
      expect(restarted.generationId).toBe(generation);
      expect(restarted.partitions).toEqual(owned);
      expect(restarted.memberId).not.toBe(second.memberId);
      const { group } = await broker.rpc.call('describeGroup', { groupId: 'pharmacy' });
      expect(group).toMatchObject({
        state: GroupState.GROUP_STATE_STABLE,
        generationId: generation,
      });
      first.halt();
      restarted.halt();
    } finally {
      await broker.stop();
    }
  });
});
