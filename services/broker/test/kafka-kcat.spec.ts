import { execFile } from 'node:child_process';
import { partitionForKey } from '@hospital/proto';
import { readAll } from './support/broker-rpc';
import { ensureDebianTool } from '@hospital/testing';
import { startKafkaTestBroker, type KafkaTestBroker } from './support/start-test-broker';

/** Runs kcat (librdkafka) against the broker's Kafka listener; resolves with its stdout. */
function kcat(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', args, { timeout: 30_000 }, (error, stdout, stderr) =>
      error
        ? reject(new Error(`kcat ${args.join(' ')} failed: ${stderr || error.message}`))
        : resolve(stdout),
    );
    child.stdin?.end(input ?? '');
  });
}

/**
 * kcat 1.7 on librdkafka 2.0 (Debian's), a second independent Kafka client:
 * metadata, keyed produce with Kafka's Java partitioner, and a balanced
 * group consumer that commits.
 */
describe('broker over the Kafka protocol, judged by kcat (librdkafka)', () => {
  let broker: KafkaTestBroker;
  let address: string;
  beforeAll(async () => {
    ensureDebianTool('kcat');
    broker = await startKafkaTestBroker();
    address = broker.kafkaAddress;
    await broker.rpc.call('createTopic', { name: 'kcat.keyed', partitions: 3, config: undefined });
  }, 180_000);
  afterAll(() => broker?.stop());

  it('lists every topic with its partitions, led by the one broker (kcat -L)', async () => {
    const metadata = JSON.parse(await kcat(['-b', address, '-L', '-J'])) as {
      brokers: { id: number; name: string }[];
      topics: { topic: string; partitions: { partition: number; leader: number }[] }[];
    };
    expect(metadata.brokers).toEqual([{ id: 0, name: address }]);
    const listed = Object.fromEntries(
      metadata.topics.map((t) => [t.topic, t.partitions.map((p) => p.partition)]),
    );
    const ours = await broker.rpc.call('listTopics', { includeInternal: true });
    expect(listed).toEqual(
      Object.fromEntries(
        ours.topics.map((t) => [t.name, Array.from({ length: t.partitions }, (_, i) => i)]),
      ),
    );
    expect(metadata.topics.every((t) => t.partitions.every((p) => p.leader === 0))).toBe(true);
  });

  it("produces keyed records onto the partitions Kafka's default (murmur2) partitioner picks (kcat -P)", async () => {
    const lines = Array.from({ length: 30 }, (_, i) => `patient-${i}:checkout ${i}`);
    await kcat(
      ['-b', address, '-P', '-t', 'kcat.keyed', '-K:', '-X', 'topic.partitioner=murmur2_random'],
      `${lines.join('\n')}\n`,
    );
    const stored = await Promise.all(
      [0, 1, 2].map((partition) => readAll(broker.rpc, 'kcat.keyed', partition)),
    );
    expect(stored.flat()).toHaveLength(30);
    stored.forEach((records, partition) => {
      for (const record of records)
        expect(partitionForKey(record.key as Buffer, 3)).toBe(partition);
    });
  });

  it('consumes as a group member and commits, and DescribeGroup shows its offsets at the log end (kcat -G)', async () => {
    const out = await kcat([
      '-b',
      address,
      '-G',
      'kcat-readers',
      'kcat.keyed',
      '-o',
      'beginning',
      '-e',
      '-f',
      '%p %o %k\n',
    ]);
    const consumed = out.trim().split('\n').filter(Boolean);
    expect(consumed).toHaveLength(30);
    const described = await broker.rpc.call('describeGroup', { groupId: 'kcat-readers' });
    const offsets = described.group?.offsets.map((o) => ({
      partition: o.partition,
      committed: o.committedOffset,
      lag: o.lag,
    }));
    const ends = (
      await broker.rpc.call('describeTopic', { name: 'kcat.keyed' })
    ).topic?.partitions.map((p) => p.logEndOffset);
    expect(offsets).toEqual(ends?.map((end, partition) => ({ partition, committed: end, lag: 0 })));
  });
});
