import { ErrorReason } from '@hospital/proto';
import { startBroker, type BrokerProcess } from '@hospital/processes';
import { Admin } from '../src/admin/admin';
import { BrokerConnection } from '../src/connection/broker-connection';
import { ProducerBufferFullError } from '../src/producer/buffer-budget';
import { Producer } from '../src/producer/producer';

/** What checkout sends: a ~300-byte protobuf value and its two headers (~110 bytes). */
const checkoutRecord = (i: number) => ({
  key: `P-${String(i % 5_000).padStart(6, '0')}`,
  value: Buffer.alloc(300, i % 251),
  headers: {
    'content-type': 'application/x-protobuf; proto=hospital.events.v1.PatientCheckedOut',
    'event-id': `0b7c2f0e-5d1a-4c7e-9a39-${String(i).padStart(12, '0')}`,
  },
});

describe('broker-client/Producer under bursts, limits and topology changes', () => {
  let broker: BrokerProcess;
  let connection: BrokerConnection;
  let admin: Admin;
  beforeAll(async () => {
    broker = await startBroker({ env: { BROKER_TOPICS: 'burst:4,limits:1,grow:4,full:1' } });
    connection = new BrokerConnection({ broker: broker.address, clientId: 'limits-test' });
    admin = new Admin(connection);
  });
  afterAll(async () => {
    connection?.close();
    if (broker?.child.signalCode === null) broker.child.kill('SIGCONT');
    await broker?.stop();
    broker?.cleanup();
  });

  it('takes a burst of 200,000 checkout-sized records with headers at once: every one acknowledged, no batch over the limit', async () => {
    const producer = new Producer(connection);
    const refused: string[] = [];
    producer.events.on('producer.split', ({ records }) => refused.push(`split ${records}`));
    producer.events.on('producer.retry', ({ error }) => refused.push(error));
    let largest = 0;
    producer.events.on('producer.batch', ({ bytes }) => (largest = Math.max(largest, bytes)));
    const sends = Array.from({ length: 200_000 }, (_, i) =>
      producer.send({ topic: 'burst', messages: [checkoutRecord(i)] }),
    );
    const acknowledged = (await Promise.all(sends)).flat();
    expect(acknowledged.every((record) => record.offset >= 0)).toBe(true);
    expect(refused).toEqual([]);
    expect(largest).toBeLessThanOrEqual(1024 * 1024);
    const described = await admin.describeTopic('burst');
    expect(described.partitions.reduce((sum, p) => sum + p.logEndOffset, 0)).toBe(200_000);
    expect(producer.bufferedBytes).toBe(0);
    await producer.disconnect();
  }, 120_000);

  it('refuses a single record larger than the broker takes at once, without retrying it', async () => {
    const producer = new Producer(connection);
    const retries: string[] = [];
    producer.events.on('producer.retry', ({ error }) => retries.push(error));
    await expect(
      producer.send({ topic: 'limits', messages: [{ key: 'k', value: Buffer.alloc(1_100_000) }] }),
    ).rejects.toMatchObject({ reason: ErrorReason.MESSAGE_TOO_LARGE, retriable: false });
    expect(retries).toEqual([]);
    await producer.disconnect();
  });

  it('waits while its buffer is full and fails after maxBlockMs with a clear error; what was taken is still acknowledged', async () => {
    const producer = new Producer(connection, { bufferBytes: 64 * 1024, maxBlockMs: 300 });
    await producer.send({ topic: 'full', messages: [checkoutRecord(0)] });
    // The broker stops answering (SIGSTOP), as a broker that cannot keep up.
    broker.child.kill('SIGSTOP');
    const taken = Array.from({ length: 100 }, (_, i) =>
      producer.send({ topic: 'full', messages: [checkoutRecord(i)] }),
    );
    const overflow = producer.send({
      topic: 'full',
      messages: Array.from({ length: 200 }, (_, i) => checkoutRecord(i)),
    });
    await expect(overflow).rejects.toBeInstanceOf(ProducerBufferFullError);
    await expect(overflow).rejects.toThrow(/stayed full for 300 ms/);
    expect(producer.bufferedBytes).toBeLessThanOrEqual(64 * 1024);
    broker.child.kill('SIGCONT');
    expect((await Promise.all(taken)).flat()).toHaveLength(100);
    await producer.disconnect();
  });

  it('refuses a send holding a record larger than its whole buffer before queueing any of it', async () => {
    const producer = new Producer(connection, { bufferBytes: 4 * 1024 });
    const batches: number[] = [];
    producer.events.on('producer.batch', ({ records }) => batches.push(records));
    await expect(
      producer.send({
        topic: 'full',
        messages: [checkoutRecord(1), { key: 'big', value: Buffer.alloc(8 * 1024) }],
      }),
    ).rejects.toThrow(/larger than the producer's whole buffer of 4096 bytes/);
    expect(producer.bufferedBytes).toBe(0);
    await producer.disconnect();
    expect(batches).toEqual([]);
  });

  it('uses partitions added while it runs, within its metadata age', async () => {
    const producer = new Producer(connection, { metadataMaxAgeMs: 200 });
    const keys = Array.from({ length: 200 }, (_, i) => `patient-${i}`);
    const partitionsHit = async () =>
      new Set(
        (
          await producer.send({ topic: 'grow', messages: keys.map((key) => ({ key, value: key })) })
        ).map((record) => record.partition),
      );
    expect([...(await partitionsHit())].sort()).toEqual([0, 1, 2, 3]);
    await admin.createPartitions('grow', 6);
    let hit = new Set<number>();
    const deadline = Date.now() + 10_000;
    while (hit.size < 6 && Date.now() < deadline) hit = await partitionsHit();
    expect([...hit].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    await producer.disconnect();
  });
});

describe('broker-client/Producer when the broker restarts with a lower batch limit', () => {
  let broker: BrokerProcess | undefined;
  afterAll(async () => {
    await broker?.stop();
    broker?.cleanup();
  });

  it('splits refused batches and sends every record once, in order', async () => {
    const first = await startBroker({ env: { BROKER_TOPICS: 'split:1' } });
    const connection = new BrokerConnection({ broker: first.address, clientId: 'split-test' });
    const producer = new Producer(connection, { metadataMaxAgeMs: 3_600_000, lingerMs: 50 });
    await producer.send({ topic: 'split', messages: [checkoutRecord(0)] });
    await first.stop();
    broker = await startBroker({
      dataDir: first.dataDir,
      port: first.port,
      env: { BROKER_TOPICS: 'split:1', BROKER_MAX_BATCH_BYTES: String(64 * 1024) },
    });
    const splits: number[] = [];
    producer.events.on('producer.split', ({ records }) => splits.push(records));
    const sends = Array.from({ length: 2_000 }, (_, i) =>
      producer.send({ topic: 'split', messages: [checkoutRecord(i + 1)] }),
    );
    const offsets = (await Promise.all(sends)).flat().map((record) => record.offset);
    expect(splits.length).toBeGreaterThan(0);
    expect(offsets).toEqual(Array.from({ length: 2_000 }, (_, i) => i + 1));
    await producer.disconnect();
    connection.close();
  });
});
