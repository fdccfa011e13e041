import type { INestApplication } from '@nestjs/common';
import { BrokerConnection } from '@hospital/broker-client';
import { partitionForKey, PatientCheckedOut } from '@hospital/proto';
import { findFreePort, readPartition, startBroker, type BrokerProcess } from '@hospital/testing';
import pino from 'pino';
import { startCheckout } from '../src/app';
import { loadCheckoutConfig } from '../src/config';
import { CheckoutSimulator } from '../src/domain/simulator';

describe('checkout over HTTP, publishing to a real broker', () => {
  let broker: BrokerProcess;
  let app: INestApplication;
  let connection: BrokerConnection;
  let base: string;

  beforeAll(async () => {
    broker = await startBroker();
    const port = await findFreePort();
    app = await startCheckout(
      loadCheckoutConfig({ CHECKOUT_PORT: String(port), BROKER_ADDRESS: broker.address }),
      pino({ level: 'silent' }),
    );
    base = `http://127.0.0.1:${port}`;
    connection = new BrokerConnection({ broker: broker.address });
  });
  afterAll(async () => {
    await app.close();
    connection.close();
    await broker.stop();
    broker.cleanup();
  });

  const post = (body: unknown) =>
    fetch(`${base}/checkouts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const logEnd = async () =>
    (await connection.call('describeTopic', { name: 'patient.checkout' })).topic!.partitions.reduce(
      (sum, partition) => sum + partition.logEndOffset,
      0,
    );

  it('accepts a valid checkout with 202 and publishes it keyed by patient id', async () => {
    const body = new CheckoutSimulator(11).next();
    const response = await post(body);
    expect(response.status).toBe(202);
    const published = (await response.json()) as {
      checkoutId: string;
      partition: number;
      offset: number;
    };
    expect(published).toMatchObject({
      checkoutId: body.checkoutId,
      partition: partitionForKey(body.patientId, 4),
    });
    const records = await readPartition(async (offset) => {
      const fetched = await connection.call('fetch', {
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        topics: [
          {
            name: 'patient.checkout',
            partitions: [
              { partition: published.partition, fetchOffset: offset, partitionMaxBytes: 0 },
            ],
          },
        ],
      });
      return fetched.topics[0].partitions[0].batches;
    });
    const record = records.find((candidate) => candidate.offset === published.offset)!;
    expect(record.key?.toString()).toBe(body.patientId);
    expect(PatientCheckedOut.decode(record.value)).toMatchObject({
      checkoutId: body.checkoutId,
      patientId: body.patientId,
    });
  });

  it('answers 400 naming each bad field and publishes nothing', async () => {
    const before = await logEnd();
    const response = await post({
      ...new CheckoutSimulator(12).next(),
      patientId: '',
      chargeLines: [],
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      message: 'invalid checkout',
      errors: [{ field: 'patientId' }, { field: 'chargeLines' }],
    });
    const malformed = await post('{"patientId": ');
    expect(malformed.status).toBe(400);
    expect(await logEnd()).toBe(before);
  });

  it('serves /health and Prometheus /metrics', async () => {
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/checkout_events_published_total\{source="api"\} 1/);
    expect(metrics).toMatch(/checkout_requests_rejected_total 1/);
  });
});
