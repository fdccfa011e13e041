import { Acks, ErrorReason } from '@hospital/proto';
import { STORAGE_HEALTH } from '../src/server';
import { MemoryFiles } from '../src/storage/testing/memory-files';
import { batchOf, failureOf, readAll, type BrokerRpc } from './support/broker-rpc';
import { grpcHealth } from './support/grpc-health';
import { startTestBroker, type TestBroker } from './support/start-test-broker';

const TOPIC = 'disk.test';
const DATA_DIR = '/memory/broker';

const produce = (rpc: BrokerRpc, partition: number, value: string) =>
  rpc.call('produce', {
    acks: Acks.ACKS_ALL,
    timeoutMs: 5_000,
    topics: [{ name: TOPIC, partitions: [{ partition, batch: batchOf([{ value }]) }] }],
  });

const values = async (rpc: BrokerRpc, partition: number) =>
  (await readAll(rpc, TOPIC, partition)).map((record) => record.value.toString());

describe('broker: a disk error takes one partition offline until a restart', () => {
  const files = new MemoryFiles();
  let broker: TestBroker | undefined;
  const start = async () =>
    (broker = await startTestBroker(
      { BROKER_DATA_DIR: DATA_DIR, BROKER_DURABILITY: 'fsync' },
      files,
    ));
  afterAll(() => broker?.stop());

  it('refuses acks with KAFKA_STORAGE_ERROR after a failed fsync, reports it on /health, gRPC health and /metrics, and recovers on restart', async () => {
    const { rpc, running } = await start();
    await rpc.call('createTopic', { name: TOPIC, partitions: 2, config: undefined });
    await produce(rpc, 1, 'before');

    const healFsync = files.inject((operation, path) =>
      operation === 'sync' && path.includes(`/${TOPIC}/1/`) ? { fail: 'EIO' } : undefined,
    );
    const failed = await failureOf(produce(rpc, 1, 'unacknowledged'));
    expect(failed.detail).toMatchObject({
      reason: ErrorReason.KAFKA_STORAGE_ERROR,
      retriable: true,
      metadata: { topic: TOPIC, partition: '1', errno: 'EIO' },
    });
    expect(failed.message).toMatch(
      /partition disk\.test\/1 is offline after a disk error \(fsync: EIO/,
    );
    healFsync();
    // The disk answers again, but the partition stays offline: nothing after a failed fsync is trusted.
    expect((await failureOf(produce(rpc, 1, 'still refused'))).detail?.reason).toBe(
      ErrorReason.KAFKA_STORAGE_ERROR,
    );
    await produce(rpc, 0, 'other partition'); // the rest of the broker serves on

    const health = await fetch(`${running.dashboardUrl}/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({
      status: 'degraded',
      failedPartitions: [{ topic: TOPIC, partition: 1, operation: 'fsync', code: 'EIO' }],
    });
    expect(await grpcHealth(running.address, '')).toBe('SERVING');
    expect(await grpcHealth(running.address, STORAGE_HEALTH)).toBe('NOT_SERVING');
    expect(await grpcHealth(running.address, `${STORAGE_HEALTH}/${TOPIC}/1`)).toBe('NOT_SERVING');
    const metrics = await (await fetch(`${running.dashboardUrl}/metrics`)).text();
    expect(metrics).toContain(`broker_partition_offline{topic="${TOPIC}",partition="1"} 1`);
    expect(metrics).toContain(`broker_partition_offline{topic="${TOPIC}",partition="0"} 0`);

    await broker?.stop();
    const restarted = await start();
    await produce(restarted.rpc, 1, 'after restart');
    expect(await values(restarted.rpc, 1)).toEqual(
      expect.arrayContaining(['before', 'after restart']),
    );
    expect(await values(restarted.rpc, 0)).toEqual(['other partition']);
    expect((await fetch(`${restarted.running.dashboardUrl}/health`)).status).toBe(200);
    expect(await grpcHealth(restarted.running.address, STORAGE_HEALTH)).toBe('SERVING');
  });
});
