import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { Acks, partitionForKey } from '@hospital/proto';
import { batchOf, readAll } from './support/broker-rpc';
import { startKafkaTestBroker, type KafkaTestBroker } from './support/start-test-broker';

const CLIENT = join(__dirname, 'support', 'platformatic-client.mjs');

/** Runs the @platformatic/kafka client script; resolves with its JSON output lines. */
function platformatic(args: string[]): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLIENT, ...args], { timeout: 30_000 }, (error, stdout, stderr) =>
      error
        ? reject(new Error(`@platformatic/kafka ${args[0]} failed: ${stderr || error.message}`))
        : resolve(
            stdout
              .split('\n')
              .filter(Boolean)
              .map((line) => JSON.parse(line) as unknown),
          ),
    );
  });
}

interface Consumed {
  partition: number;
  offset: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
  timestamp: string;
}

/**
 * @platformatic/kafka 1.35, a third independent client, which speaks only
 * Kafka's flexible versions (ApiVersions 3, Metadata 9, Fetch 12, JoinGroup 6,
 * OffsetCommit 8 …): compact types and tagged fields end to end.
 */
describe('broker over the Kafka protocol, judged by @platformatic/kafka (flexible versions)', () => {
  let broker: KafkaTestBroker;
  let address: string;
  beforeAll(async () => {
    broker = await startKafkaTestBroker();
    address = broker.kafkaAddress;
  });
  afterAll(() => broker?.stop());

  it("produces keyed records onto the partitions of Kafka's default partitioner, keeping values, headers and order", async () => {
    await broker.rpc.call('createTopic', { name: 'plat.keyed', partitions: 4, config: undefined });
    const sent = Array.from({ length: 40 }, (_, i) => ({
      key: `patient-${i}`,
      value: `checkout ${i}`,
      headers: { ward: `w${i % 3}` },
    }));
    await platformatic(['produce', address, 'plat.keyed', JSON.stringify(sent)]);
    const stored = (
      await Promise.all([0, 1, 2, 3].map((p) => readAll(broker.rpc, 'plat.keyed', p)))
    ).flatMap((records, partition) => records.map((record) => ({ partition, record })));
    expect(stored).toHaveLength(40);
    for (const { partition, record } of stored) {
      const key = record.key?.toString() as string;
      expect(partition).toBe(partitionForKey(key, 4));
      const original = sent.find((message) => message.key === key);
      expect(record.value.toString()).toBe(original?.value);
      expect(record.headers.ward?.toString()).toBe(original?.headers.ward);
    }
    for (const partition of [0, 1, 2, 3]) {
      const sequence = stored
        .filter((entry) => entry.partition === partition)
        .map((entry) => Number(entry.record.value.toString().split(' ')[1]));
      expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
    }
  });

  it('hands records produced over gRPC to a group member in order, with keys, headers and timestamps, and its commits are our offsets', async () => {
    await broker.rpc.call('createTopic', { name: 'plat.mixed', partitions: 2, config: undefined });
    const records = Array.from({ length: 30 }, (_, i) => ({
      key: i % 5 === 0 ? null : `k${i}`,
      value: `v${i}`,
      headers: { seq: String(i) },
      timestamp: 1_790_000_000_000 + i * 7,
    }));
    for (const partition of [0, 1])
      await broker.rpc.call('produce', {
        acks: Acks.ACKS_ALL,
        timeoutMs: 5_000,
        topics: [
          {
            name: 'plat.mixed',
            partitions: [
              { partition, batch: batchOf(records.filter((_, i) => i % 2 === partition)) },
            ],
          },
        ],
      });
    const output = await platformatic(['consume', address, 'plat.mixed', 'plat-readers', '30']);
    expect(output.at(-1)).toBe('left');
    const consumed = output.slice(0, -1) as Consumed[];
    for (const partition of [0, 1])
      expect(
        consumed
          .filter((record) => record.partition === partition)
          .map(({ offset, key, value, headers, timestamp }) => ({
            offset: Number(offset),
            key,
            value,
            headers,
            timestamp: Number(timestamp),
          })),
      ).toEqual(
        records
          .filter((_, i) => i % 2 === partition)
          .map((record, offset) => ({ offset, ...record, headers: { seq: record.headers.seq } })),
      );
    const committed = await broker.rpc.call('offsetFetch', {
      groupId: 'plat-readers',
      topics: [{ name: 'plat.mixed', partitions: [] }],
    });
    expect(
      committed.topics[0].partitions.map((p) => ({
        partition: p.partition,
        offset: p.committedOffset,
      })),
    ).toEqual([
      { partition: 0, offset: 15 },
      { partition: 1, offset: 15 },
    ]);
    const described = await broker.rpc.call('describeGroup', { groupId: 'plat-readers' });
    expect(described.group?.members).toEqual([]);
  });
});
