import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort, startBroker, type BrokerProcess } from '@hospital/processes';
import { Acks } from '@hospital/proto';
import { batchOf, BrokerRpc, readAll } from './support/broker-rpc';

const TOPIC = 'crash.test';
const PARTITIONS = 4;

interface Acknowledged {
  partition: number;
  offset: number;
  value: string;
}

/**
 * Produces on every partition until the broker goes away, remembering each
 * acknowledged record; `onAcknowledged` sees the running total.
 */
function produceUntilBrokerDies(
  rpc: BrokerRpc,
  onAcknowledged: (total: number) => void,
): Promise<Acknowledged[]> {
  const acknowledged: Acknowledged[] = [];
  const stream = async (partition: number) => {
    for (let batch = 0; ; batch++) {
      const values = Array.from({ length: 50 }, (_, i) => `p${partition}-b${batch}-r${i}`);
      try {
        const response = await rpc.call('produce', {
          acks: Acks.ACKS_ALL,
          timeoutMs: 5_000,
          topics: [
            {
              name: TOPIC,
              partitions: [{ partition, batch: batchOf(values.map((value) => ({ value }))) }],
            },
          ],
        });
        const { baseOffset } = response.topics[0].partitions[0];
        values.forEach((value, i) =>
          acknowledged.push({ partition, offset: baseOffset + i, value }),
        );
        onAcknowledged(acknowledged.length);
      } catch {
        return; // the broker is gone: anything not acknowledged may be lost
      }
    }
  };
  return Promise.all(Array.from({ length: PARTITIONS }, (_, partition) => stream(partition))).then(
    () => acknowledged,
  );
}

async function storedValues(rpc: BrokerRpc, partition: number): Promise<Map<number, string>> {
  const records = await readAll(rpc, TOPIC, partition);
  return new Map(records.map((record) => [record.offset, record.value.toString()]));
}

describe('broker durability: SIGKILL during a produce stream', () => {
  it.each(['fsync', 'os'])(
    'keeps every acknowledged acks=all record at durability level "%s"',
    async (durability) => {
      const dataDir = mkdtempSync(join(tmpdir(), 'broker-crash-'));
      const port = await findFreePort();
      const env = {
        BROKER_PORT: String(port),
        BROKER_DATA_DIR: dataDir,
        BROKER_DURABILITY: durability,
        BROKER_TOPICS: `${TOPIC}:${PARTITIONS}`,
        BROKER_SEGMENT_BYTES: String(256 * 1024),
      };
      const children: BrokerProcess[] = [];
      try {
        const first = await startBroker({ env, dataDir, port });
        children.push(first);
        const producer = new BrokerRpc(`127.0.0.1:${port}`);
        // Kill once a good amount is acknowledged, in the middle of the stream.
        let reached: () => void = () => {};
        const enoughAcknowledged = new Promise<void>((resolve) => (reached = resolve));
        const producing = produceUntilBrokerDies(producer, (total) => total >= 20_000 && reached());
        await enoughAcknowledged;
        expect(await first.kill()).toBe('SIGKILL');
        const acknowledged = await producing;
        producer.close();
        expect(acknowledged.length).toBeGreaterThanOrEqual(20_000);

        const second = await startBroker({ env, dataDir, port });
        children.push(second);
        const reader = new BrokerRpc(`127.0.0.1:${port}`);
        try {
          const stored = await Promise.all(
            Array.from({ length: PARTITIONS }, (_, partition) => storedValues(reader, partition)),
          );
          const missing = acknowledged.filter(
            (record) => stored[record.partition].get(record.offset) !== record.value,
          );
          expect(missing.slice(0, 5)).toEqual([]);
          for (const partition of stored) {
            expect([...partition.keys()]).toEqual([...partition.keys()].map((_, index) => index));
          }
        } finally {
          reader.close();
          expect(await second.stop()).toBe('0'); // graceful: flushed and closed
        }
      } finally {
        for (const broker of children) await broker.kill();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
