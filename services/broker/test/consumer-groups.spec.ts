import { ErrorReason, GroupState, RebalanceTrigger } from '@hospital/proto';
import { failureOf } from './support/broker-rpc';
import { GroupDriver, settled } from './support/group-driver';
import { startTestBroker, type TestBroker } from './support/start-test-broker';

const TOPIC = 'patient.checkout';

describe('consumer groups over gRPC: the source material, step by step (range, 4 partitions)', () => {
  let broker: TestBroker;
  const drivers: GroupDriver[] = [];
  beforeAll(async () => {
    broker = await startTestBroker({ BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' });
  });
  afterAll(async () => {
    for (const driver of drivers) driver.halt();
    await broker?.stop();
  });

  let generation = 0;

  const active: GroupDriver[] = [];

  async function addMember(clientId: string): Promise<void> {
    const driver = new GroupDriver(broker.rpc, {
      groupId: 'billing',
      clientId,
      topic: TOPIC,
      sessionTimeoutMs: 2_000,
      rebalanceTimeoutMs: 4_000,
      heartbeatIntervalMs: 150,
    });
    drivers.push(driver);
    active.push(driver);
    void driver.start();
    generation = await settled(active, generation);
  }

  /** clientId -> partitions, as each member learned them from SyncGroup. */
  const ownership = () =>
    Object.fromEntries(active.map((driver) => [driver.options.clientId, driver.partitions]));

  it('1 consumer reads all four partitions', async () => {
    await addMember('consumer-1');
    expect(ownership()).toEqual({ 'consumer-1': [0, 1, 2, 3] });
    expect(active[0].leader).toBe(active[0].memberId);
  });

  it('2 consumers split them two and two; the first member stays the leader and alone sees every member', async () => {
    await addMember('consumer-2');
    expect(ownership()).toEqual({ 'consumer-1': [0, 1], 'consumer-2': [2, 3] });
    const [leader, follower] = active;
    expect(follower.leader).toBe(leader.memberId);
    expect(leader.lastJoinMembers).toHaveLength(2);
    expect(follower.lastJoinMembers).toEqual([]);
  });

  it('3 consumers: the first in member order takes two', async () => {
    await addMember('consumer-3');
    expect(ownership()).toEqual({ 'consumer-1': [0, 1], 'consumer-2': [2], 'consumer-3': [3] });
  });

  it('4 consumers: one partition each', async () => {
    await addMember('consumer-4');
    expect(ownership()).toEqual({
      'consumer-1': [0],
      'consumer-2': [1],
      'consumer-3': [2],
      'consumer-4': [3],
    });
  });

  it('6 consumers: two sit idle, reported as idle, not as an error', async () => {
    await addMember('consumer-5');
    await addMember('consumer-6');
    expect(ownership()).toMatchObject({ 'consumer-5': [], 'consumer-6': [] });
    const { group } = await broker.rpc.call('describeGroup', { groupId: 'billing' });
    expect(group).toMatchObject({
      state: GroupState.GROUP_STATE_STABLE,
      generationId: generation,
      protocolName: 'range',
      leader: active[0].memberId,
    });
    expect(
      group!.members
        .filter((member) => member.idle)
        .map((member) => member.clientId)
        .sort(),
    ).toEqual(['consumer-5', 'consumer-6']);
    expect(
      group!.offsets
        .filter((offset) => offset.topic === TOPIC)
        .map((offset) => offset.ownerMemberId),
    ).toEqual(active.slice(0, 4).map((driver) => driver.memberId));
  });

  it('graceful leaves move ownership back: 6 -> 3 members is 2+1+1 again', async () => {
    for (const clientId of ['consumer-6', 'consumer-5', 'consumer-4']) {
      const index = active.findIndex((driver) => driver.options.clientId === clientId);
      const [leaving] = active.splice(index, 1);
      await leaving.leave();
      generation = await settled(active, generation);
    }
    expect(ownership()).toEqual({ 'consumer-1': [0, 1], 'consumer-2': [2], 'consumer-3': [3] });
    const { group } = await broker.rpc.call('describeGroup', { groupId: 'billing' });
    expect(group!.rebalances.at(-1)).toMatchObject({
      trigger: RebalanceTrigger.REBALANCE_TRIGGER_MEMBER_LEFT,
      generationId: generation,
    });
  });

  it('a crashed member (no more heartbeats) loses its partitions after the session timeout', async () => {
    const crashed = active.pop() as GroupDriver;
    crashed.halt();
    generation = await settled(active, generation);
    expect(ownership()).toEqual({ 'consumer-1': [0, 1], 'consumer-2': [2, 3] });
    const { group } = await broker.rpc.call('describeGroup', { groupId: 'billing' });
    expect(group!.rebalances.at(-1)).toMatchObject({
      trigger: RebalanceTrigger.REBALANCE_TRIGGER_SESSION_TIMEOUT,
    });
    expect(group!.members.map((member) => member.clientId)).toEqual(['consumer-1', 'consumer-2']);
  });

  it('the crashed member is a zombie now: its commit is refused', async () => {
    const zombie = drivers.find(
      (driver) => driver.options.clientId === 'consumer-3',
    ) as GroupDriver;
    const failure = await failureOf(zombie.commit(3, 10));
    expect(failure.detail?.reason).toBe(ErrorReason.UNKNOWN_MEMBER_ID);
  });

  it('a live member commits with its generation; an old generation is refused', async () => {
    const [first] = active;
    await first.commit(0, 42);
    const fetched = await broker.rpc.call('offsetFetch', {
      groupId: 'billing',
      topics: [{ name: TOPIC, partitions: [0] }],
    });
    expect(fetched.topics[0].partitions[0].committedOffset).toBe(42);
    const stale = await failureOf(
      broker.rpc.call('offsetCommit', {
        groupId: 'billing',
        generationId: generation - 1,
        memberId: first.memberId,
        groupInstanceId: undefined,
        topics: [{ name: TOPIC, partitions: [{ partition: 0, committedOffset: 7, metadata: '' }] }],
      }),
    );
    expect(stale.detail?.reason).toBe(ErrorReason.ILLEGAL_GENERATION);
  });

  it('adding partitions to the subscribed topic triggers a rebalance that hands them out', async () => {
    await broker.rpc.call('createPartitions', { name: TOPIC, totalPartitions: 6 });
    generation = await settled(active, generation);
    expect(ownership()).toEqual({ 'consumer-1': [0, 1, 2], 'consumer-2': [3, 4, 5] });
    const { group } = await broker.rpc.call('describeGroup', { groupId: 'billing' });
    expect(group!.rebalances.at(-1)).toMatchObject({
      trigger: RebalanceTrigger.REBALANCE_TRIGGER_PARTITIONS_ADDED,
    });
  });
});
