import { ErrorReason, MembershipEventType, type WatchMembershipResponse } from '@hospital/proto';
import { Metadata, status } from '@grpc/grpc-js';
import { adminMetadata, failureOf, produceToEachPartition } from './support/broker-rpc';
import { GroupDriver, settled } from './support/group-driver';
import { ADMIN_TOKEN, startTestBroker, type TestBroker } from './support/start-test-broker';

const TOPIC = 'patient.checkout';

describe('group administration and prompt notice over gRPC', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0' });
    await produceToEachPartition(broker.rpc, TOPIC, 4, 10);
  });
  afterAll(() => broker?.stop());

  const driver = (groupId: string, clientId: string) =>
    new GroupDriver(broker.rpc, {
      groupId,
      clientId,
      topic: TOPIC,
      sessionTimeoutMs: 5_000,
      rebalanceTimeoutMs: 5_000,
      heartbeatIntervalMs: 200,
    });
  const admin = () => adminMetadata(ADMIN_TOKEN);
  const earliest = { target: { $case: 'earliest' as const, value: true } };

  it('streams REBALANCE_STARTED to a watching member the moment another member joins', async () => {
    const first = driver('housekeeping', 'hk-1');
    await first.start();
    const stream = broker.rpc.client.watchMembership({
      groupId: 'housekeeping',
      memberId: first.memberId,
      generationId: first.generationId,
    });
    const event = new Promise<WatchMembershipResponse>((resolve) => stream.once('data', resolve));
    const second = driver('housekeeping', 'hk-2');
    void second.start();
    await expect(event).resolves.toMatchObject({
      type: MembershipEventType.MEMBERSHIP_EVENT_TYPE_REBALANCE_STARTED,
    });
    stream.on('error', () => {}); // CANCELLED, from our own cancel()
    stream.cancel();
    await settled([first, second], first.generationId);
    first.halt();
    second.halt();
  });

  it('refuses ResetOffsets on a group with members, and without the admin token', async () => {
    const member = driver('billing', 'billing-1');
    await member.start();
    const busy = await failureOf(
      broker.rpc.call(
        'resetOffsets',
        { groupId: 'billing', topic: TOPIC, partitions: [], target: earliest, dryRun: false },
        admin(),
      ),
    );
    expect(busy.detail?.reason).toBe(ErrorReason.NON_EMPTY_GROUP);
    const anonymous = await failureOf(
      broker.rpc.call(
        'resetOffsets',
        { groupId: 'billing', topic: TOPIC, partitions: [], target: earliest, dryRun: false },
        new Metadata(),
      ),
    );
    expect(anonymous).toMatchObject({
      code: status.PERMISSION_DENIED,
      detail: { reason: ErrorReason.CLUSTER_AUTHORIZATION_FAILED },
    });
    await member.leave();
  });

  it('resets an Empty group to earliest, latest, an offset and by a shift, with a dry run that changes nothing', async () => {
    const reset = (target: object, dryRun = false, partitions: number[] = []) =>
      broker.rpc.call(
        'resetOffsets',
        { groupId: 'billing', topic: TOPIC, partitions, target: { target } as never, dryRun },
        admin(),
      );
    const dry = await reset({ $case: 'latest', value: true }, true);
    expect(dry.changes.map((change) => change.newOffset)).toEqual([10, 10, 10, 10]);
    const untouched = await broker.rpc.call('offsetFetch', {
      groupId: 'billing',
      topics: [{ name: TOPIC, partitions: [0] }],
    });
    expect(untouched.topics[0].partitions[0].committedOffset).toBe(-1);

    await reset({ $case: 'latest', value: true });
    await reset({ $case: 'offset', value: 4 }, false, [1]);
    await reset({ $case: 'shiftBy', value: -3 }, false, [2]);
    await reset({ $case: 'earliest', value: true }, false, [3]);
    const offsets = await broker.rpc.call('offsetFetch', {
      groupId: 'billing',
      topics: [{ name: TOPIC, partitions: [] }],
    });
    expect(offsets.topics[0].partitions.map((partition) => partition.committedOffset)).toEqual([
      10, 4, 7, 0,
    ]);
    const { group } = await broker.rpc.call('describeGroup', { groupId: 'billing' });
    expect(group!.offsets.map((offset) => offset.lag)).toEqual([0, 6, 3, 10]);
  });

  it('deletes an Empty group with the admin token, offsets included', async () => {
    await broker.rpc.call('deleteGroup', { groupId: 'billing' }, admin());
    const failure = await failureOf(broker.rpc.call('describeGroup', { groupId: 'billing' }));
    expect(failure.detail?.reason).toBe(ErrorReason.GROUP_ID_NOT_FOUND);
    const offsets = await broker.rpc.call('offsetFetch', {
      groupId: 'billing',
      topics: [{ name: TOPIC, partitions: [0] }],
    });
    expect(offsets.topics[0].partitions[0].committedOffset).toBe(-1);
  });

  it('refuses to delete a group that has members', async () => {
    const member = driver('pharmacy', 'pharmacy-1');
    await member.start();
    const failure = await failureOf(
      broker.rpc.call('deleteGroup', { groupId: 'pharmacy' }, admin()),
    );
    expect(failure.detail?.reason).toBe(ErrorReason.NON_EMPTY_GROUP);
    member.halt();
  });

  it('answers FindCoordinator with this broker', async () => {
    await expect(
      broker.rpc.call('findCoordinator', { key: 'billing', keyType: 1 }),
    ).resolves.toMatchObject({ host: '127.0.0.1', port: broker.config.port });
  });
});
