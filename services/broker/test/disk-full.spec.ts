import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Acks, ErrorReason } from '@hospital/proto';
import { adminMetadata, batchOf, failureOf, readAll, type BrokerRpc } from './support/broker-rpc';
import { ADMIN_TOKEN, startTestBroker, type TestBroker } from './support/start-test-broker';

const TOPIC = 'disk.full';
const FILLER = 'filler';
const TMPFS_BYTES = 4 * 1024 * 1024;

const produce = (rpc: BrokerRpc, topic: string, values: string[]) =>
  rpc.call('produce', {
    acks: Acks.ACKS_ALL,
    timeoutMs: 5_000,
    topics: [
      {
        name: topic,
        partitions: [{ partition: 0, batch: batchOf(values.map((value) => ({ value }))) }],
      },
    ],
  });

const stored = async (rpc: BrokerRpc) =>
  (await readAll(rpc, TOPIC, 0)).map((record) => record.value.toString());

/**
 * A real ENOSPC: the data directory is a 4 MiB tmpfs (the tests run as
 * root, which mounting needs).
 */
describe('broker: a full disk (a real tmpfs)', () => {
  const mountPoint = mkdtempSync(join(tmpdir(), 'broker-tmpfs-'));
  let broker: TestBroker | undefined;

  beforeAll(() => {
    if (process.getuid?.() !== 0)
      throw new Error(
        'this test mounts a tmpfs to get a real ENOSPC, which needs root; run it as root',
      );
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_BYTES}`, 'tmpfs', mountPoint]);
  });
  afterAll(async () => {
    await broker?.stop();
    execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  const start = async () =>
    (broker = await startTestBroker({
      BROKER_DATA_DIR: mountPoint,
      BROKER_OFFSETS_PARTITIONS: '1',
    }));

  it('refuses appends with a clear error while full, keeps every acknowledged record intact, and appends again once space is freed', async () => {
    const { rpc, running } = await start();
    for (const name of [TOPIC, FILLER])
      await rpc.call('createTopic', { name, partitions: 1, config: undefined });
    const acknowledged = ['a0', 'a1', 'a2'];
    await produce(rpc, TOPIC, acknowledged);

    const chunk = Array.from({ length: 16 }, (_, i) => `${i}`.padEnd(4_096, 'f'));
    let full;
    for (let filled = 0; !full; filled += 64 * 1024) {
      expect(filled).toBeLessThan(2 * TMPFS_BYTES); // it must fill up
      full = await produce(rpc, FILLER, chunk).then(
        () => undefined,
        (error: unknown) => error,
      );
    }
    const refused = await failureOf(Promise.reject(full));
    expect(refused.detail).toMatchObject({
      reason: ErrorReason.KAFKA_STORAGE_ERROR,
      retriable: true,
      metadata: { topic: FILLER, partition: '0', errno: 'ENOSPC' },
    });
    expect(refused.message).toMatch(/partition filler\/0: the disk is full \(ENOSPC\)/);
    expect((await failureOf(produce(rpc, TOPIC, chunk))).detail?.reason).toBe(
      ErrorReason.KAFKA_STORAGE_ERROR,
    );
    expect(running.broker.failedPartitions()).toEqual([]); // full is not failed
    expect(await stored(rpc)).toEqual(acknowledged);

    await rpc.call('deleteTopic', { name: FILLER }, adminMetadata(ADMIN_TOKEN));
    await running.broker.store.deletionsSettled();
    const after = await produce(rpc, TOPIC, ['b0', 'b1']);
    expect(after.topics[0].partitions[0].baseOffset).toBe(3);
    expect(await stored(rpc)).toEqual([...acknowledged, 'b0', 'b1']);

    // Nothing torn was left behind: a restart finds every segment whole.
    await broker?.stop();
    const restarted = await start();
    expect(restarted.running.broker.store.partition(TOPIC, 0).truncatedOnRecovery).toBe(0);
    expect(await stored(restarted.rpc)).toEqual([...acknowledged, 'b0', 'b1']);
  });
});
