import type { INestApplication } from '@nestjs/common';
import { BrokerConnection } from '@hospital/broker-client';
import { partitionForKey, PatientCheckedOut } from '@hospital/proto';
import { findFreePort, startBroker, type BrokerProcess } from '@hospital/processes';
import { readPartition } from '@hospital/testing';
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
      loadCheckoutConfig({
        CHECKOUT_PORT: String(port),
        BROKER_ADDRESS: broker.address,
        PRODUCER_BUFFER_BYTES: String(64 * 1024),
        PRODUCER_MAX_BLOCK_MS: '300',
      }),
      pino({ level: 'silent' }),
    );
    base = `http://127.0.0.1:${port}`;
    connection = new BrokerConnection({ broker: broker.address });
  });
  afterAll(async () => {
    broker?.child.kill('SIGCONT');
    await app?.close();
    connection?.close();
    await broker?.stop();
    broker?.cleanup();
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

  it('answers 503 with the reason when the producer cannot take more, and 202 again once the broker catches up', async () => {
    const simulator = new CheckoutSimulator(7);
    // The broker stops answering (SIGSTOP); checkouts fill the 64 KiB buffer.
    broker.child.kill('SIGSTOP');
    const posts = Array.from({ length: 400 }, () => post(simulator.next()));
    // Those that got into the buffer are answered only once the broker resumes.
    const firstRefusal = await new Promise<Response>((resolve) =>
      posts.forEach((answer) => void answer.then((r) => r.status === 503 && resolve(r))),
    );
    expect(await firstRefusal.json()).toMatchObject({
      statusCode: 503,
      reason: 'PRODUCER_BUFFER_FULL',
      message: expect.stringMatching(/retry later.*stayed full for 300 ms/),
    });
    broker.child.kill('SIGCONT');
    const statuses = (await Promise.all(posts)).map((answer) => answer.status);
    expect(statuses.filter((code) => code === 202).length).toBeGreaterThan(0);
    expect(statuses.every((code) => code === 202 || code === 503)).toBe(true);
    expect((await post(simulator.next())).status).toBe(202);
  });
});
