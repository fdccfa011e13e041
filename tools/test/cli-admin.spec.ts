import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BrokerConnection, Consumer, Producer } from '@hospital/broker-client';
import { startBroker, type BrokerProcess } from '@hospital/processes';

const CLI = join(__dirname, '..', 'dist', 'main.js');
const TOKEN = 'cli-test';

/** Runs the built CLI; resolves with its exit code and output, whatever the code. */
async function hospital(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { ...process.env, BROKER_ADMIN_TOKEN: TOKEN },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the hospital CLI against a running broker', () => {
  let broker: BrokerProcess;
  let connection: BrokerConnection;
  let consumer: Consumer;
  let at: string[];
  beforeAll(async () => {
    broker = await startBroker({
      env: {
        BROKER_ADMIN_TOKEN: TOKEN,
        BROKER_TOPICS: 'orders:3',
        BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      },
    });
    at = ['--broker', broker.address];
    connection = new BrokerConnection({ broker: broker.address, clientId: 'audit-1' });
    const producer = new Producer(connection);
    await producer.send({
      topic: 'orders',
      messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
    });
    // A member that commits only the first 5 records of each partition, so lag shows.
    consumer = new Consumer(connection, {
      groupId: 'audit',
      fromBeginning: true,
      commitMode: 'manual',
    });
    consumer.subscribe({ topics: ['orders'] });
    const joined = new Promise<void>((resolve) =>
      consumer.events.on('consumer.group.join', () => resolve()),
    );
    await consumer.run({ eachMessage: async () => {} });
    await joined;
    await consumer.commitOffsets(
      [0, 1, 2].map((partition) => ({ topic: 'orders', partition, offset: 5 })),
    );
  });
  afterAll(async () => {
    await consumer?.stop();
    connection?.close();
    await broker?.stop();
    broker?.cleanup();
  });

  it('groups describe prints one row per partition with offsets, lag and owner, like kafka-consumer-groups', async () => {
    const result = await hospital('groups', 'describe', 'audit', ...at);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^group audit: Stable, generation \d+, 1 member\(s\), leader \S+/);
    expect(lines[2].split(/\s+/)).toEqual([
      'TOPIC',
      'PARTITION',
      'CURRENT-OFFSET',
      'LOG-END-OFFSET',
      'LAG',
      'CONSUMER-ID',
      'HOST',
      'CLIENT-ID',
    ]);
    const rows = lines.slice(3).map((line) => line.split(/\s+/));
    expect(rows).toHaveLength(3);
    for (const [topic, , current, end, lag, owner, , client] of rows) {
      expect(topic).toBe('orders');
      expect(Number(current)).toBe(5);
      expect(Number(lag)).toBe(Number(end) - 5);
      expect(owner).not.toBe('-');
      expect(client).toBe('audit-1');
    }
  });

  it('--json prints the same as JSON', async () => {
    const result = await hospital('groups', 'describe', 'audit', '--json', ...at);
    const described = JSON.parse(result.stdout) as { groupId: string; offsets: unknown[] };
    expect(described.groupId).toBe('audit');
    expect(described.offsets).toHaveLength(3);
    const listed = JSON.parse((await hospital('groups', 'list', '--json', ...at)).stdout) as {
      groupId: string;
    }[];
    expect(listed.map((group) => group.groupId)).toContain('audit');
  });

  it('creates topics and adds partitions with the admin token', async () => {
    expect((await hospital('topics', 'create', 'wards', '--partitions', '2', ...at)).code).toBe(0);
    expect(
      (await hospital('topics', 'add-partitions', 'wards', '--partitions', '5', ...at)).stdout,
    ).toMatch(/now wards: 5 partitions/);
    const described = await hospital('topics', 'describe', 'wards', ...at);
    expect(described.stdout.trim().split('\n')).toHaveLength(6);
  });

  it('refuses to reset the offsets of a group with members, with the broker reason, exit 1', async () => {
    const result = await hospital(
      'groups',
      'reset-offsets',
      'audit',
      '--topic',
      'orders',
      '--to-earliest',
      ...at,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/has 1 active members .* stop them before resetting offsets/);
  });

  it.each([
    [['groups', 'reset-offsets', 'audit', '--topic', 'orders'], /exactly one of --to-earliest/],
    [
      ['groups', 'reset-offsets', 'audit', '--topic', 'orders', '--to-datetime', 'soon'],
      /--to-datetime must be/,
    ],
    [['groups', 'describe'], /needs a group id/],
    [['topics', 'create', 'x', '--partitions', '0'], /--partitions must be a whole number >= 1/],
    [['topics', 'rename'], /unknown topics action "rename"/],
  ])('prints usage and exits 2 for %j', async (args, message) => {
    const result = await hospital(...args, ...at);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/usage: hospital/);
  });
});
