import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logMessage, startBroker, type BrokerProcess } from '@hospital/processes';
import { ErrorReason } from '@hospital/proto';
import { BrokerRpc, failureOf } from './support/broker-rpc';

const TOPIC = 'retention.test';

const commitAsNonMember = (rpc: BrokerRpc, groupId: string) =>
  rpc.call('offsetCommit', {
    groupId,
    generationId: -1,
    memberId: '',
    groupInstanceId: undefined,
    topics: [{ name: TOPIC, partitions: [{ partition: 0, committedOffset: 5, metadata: '' }] }],
  });

const groupIds = async (rpc: BrokerRpc) =>
  (await rpc.call('listGroups', { states: [] })).groups.map((group) => group.groupId).sort();

describe('broker: offsets retention (the real broker process)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'broker-retention-'));
  const children: BrokerProcess[] = [];
  const start = async (env: NodeJS.ProcessEnv) => {
    const broker = await startBroker({
      dataDir,
      env: { BROKER_TOPICS: `${TOPIC}:1`, ...env },
    });
    children.push(broker);
    return { broker, rpc: new BrokerRpc(broker.address) };
  };
  afterAll(async () => {
    for (const child of children) await child.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('deletes an Empty group idle past BROKER_OFFSETS_RETENTION_MS: gone from ListGroups and DescribeGroup, and still gone after a restart', async () => {
    // Long enough that the group is surely listed first; the check runs often.
    const first = await start({
      BROKER_OFFSETS_RETENTION_MS: '1500',
      BROKER_OFFSETS_RETENTION_CHECK_MS: '100',
    });
    const deleted = first.broker.nextLine((line) => logMessage(line) === 'group deleted');
    await commitAsNonMember(first.rpc, 'idle');
    expect(await groupIds(first.rpc)).toEqual(['idle']);
    expect(JSON.parse(await deleted)).toMatchObject({ group: 'idle' });
    expect(await groupIds(first.rpc)).toEqual([]);
    const described = await failureOf(first.rpc.call('describeGroup', { groupId: 'idle' }));
    expect(described.detail?.reason).toBe(ErrorReason.GROUP_ID_NOT_FOUND);
    first.rpc.close();
    expect(await first.broker.stop()).toBe('0');

    // Restarted with retention that would keep it: the tombstones keep it gone.
    const second = await start({});
    expect(await groupIds(second.rpc)).toEqual([]);
    const fetched = await second.rpc.call('offsetFetch', {
      groupId: 'idle',
      topics: [{ name: TOPIC, partitions: [0] }],
    });
    expect(fetched.topics[0].partitions[0].committedOffset).toBe(-1);
    second.rpc.close();
  });
});
