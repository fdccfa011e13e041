import type { INestApplication } from '@nestjs/common';
import { BrokerConnection } from '@hospital/broker-client';
import { decodeRecordBatch, PatientCheckedOut } from '@hospital/proto';
import { findFreePort, startBroker, type BrokerProcess } from '@hospital/testing';
import pino from 'pino';
import { startCheckout } from '../src/app';
import { loadCheckoutConfig } from '../src/config';

describe('checkout simulator', () => {
  let broker: BrokerProcess;
  let app: INestApplication;
  let connection: BrokerConnection;
  beforeAll(async () => {
    broker = await startBroker({ env: { BROKER_TOPICS: 'simulated:4' } });
    connection = new BrokerConnection({ broker: broker.address });
  });
  afterAll(async () => {
    await app?.close();
    connection.close();
    await broker.stop();
    broker.cleanup();
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
});
