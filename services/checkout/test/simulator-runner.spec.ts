import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import type { INestApplication } from '@nestjs/common';
import { BrokerConnection } from '@hospital/broker-client';
import { decodeRecordBatch, PatientCheckedOut } from '@hospital/proto';
import { findFreePort, startBroker, type BrokerProcess } from '@hospital/processes';
import pino from 'pino';
import { startCheckout } from '../src/app';
import { loadCheckoutConfig } from '../src/config';

describe('checkout simulator', () => {
  let broker: BrokerProcess;
  let app: INestApplication;
  let connection: BrokerConnection;
  beforeAll(async () => {
    broker = await startBroker({ env: { BROKER_TOPICS: 'simulated:4,limited:4' } });
    connection = new BrokerConnection({ broker: broker.address });
  });
  afterAll(async () => {
    await app?.close();
    connection?.close();
    await broker?.stop();
    broker?.cleanup();
  });

  it('publishes realistic checkouts at the configured rate without any request', async () => {
    const config = loadCheckoutConfig({
      CHECKOUT_PORT: String(await findFreePort()),
      BROKER_ADDRESS: broker.address,
      CHECKOUT_TOPIC: 'simulated',
      SIMULATOR_RATE: '200',
      SIMULATOR_SEED: '5',
    });
    app = await startCheckout(config, pino({ level: 'silent' }));
    // A long poll answers as soon as the simulator's first events land.
    const response = await connection.call('fetch', {
      maxWaitMs: 10_000,
      minBytes: 1,
      maxBytes: 1 << 20,
      topics: [
        {
          name: 'simulated',
          partitions: [0, 1, 2, 3].map((partition) => ({
            partition,
            fetchOffset: 0,
            partitionMaxBytes: 0,
          })),
        },
      ],
    });
    const events = response.topics[0].partitions
      .flatMap((slot) => slot.batches.flatMap(decodeRecordBatch))
      .map((record) => PatientCheckedOut.decode(record.value));
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) {
      expect(event.checkoutId).toMatch(/^CO-\d{8}-/);
      expect(event.chargeLines.length).toBeGreaterThanOrEqual(2);
      expect(event.attendingPhysician?.npi).toMatch(/^\d{10}$/);
    }
  });

  it('stops after SIMULATOR_LIMIT events, every one of them published', async () => {
    const logs = new PassThrough();
    const finished = new Promise<number>((resolve) =>
      createInterface({ input: logs }).on('line', (line) => {
        const entry = JSON.parse(line) as { msg: string; emitted?: number };
        if (entry.msg === 'simulator finished') resolve(entry.emitted ?? -1);
      }),
    );
    const limited = await startCheckout(
      loadCheckoutConfig({
        CHECKOUT_PORT: String(await findFreePort()),
        BROKER_ADDRESS: broker.address,
        CHECKOUT_TOPIC: 'limited',
        SIMULATOR_RATE: '5000',
        SIMULATOR_LIMIT: '1234',
      }),
      pino(logs),
    );
    try {
      expect(await finished).toBe(1_234);
      const described = await connection.call('describeTopic', { name: 'limited' });
      const published = described.topic!.partitions.reduce(
        (sum, partition) => sum + partition.logEndOffset,
        0,
      );
      expect(published).toBe(1_234);
    } finally {
      await limited.close();
    }
  });
});
