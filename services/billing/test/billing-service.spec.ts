import { BrokerConnection, Producer } from '@hospital/broker-client';
import { decodeRecordBatch, PatientCheckedOut } from '@hospital/proto';
import {
  startConsumerServiceUnderTest,
  type ConsumerServiceUnderTest,
} from '@hospital/service-testing';
import { Client } from 'pg';
import pino from 'pino';
import { startBilling, type RunningBilling } from '../src/app';
import { loadBillingConfig } from '../src/config';

const billingRole = { schema: 'billing', role: 'billing_svc', password: 'billing-pw' };
const CHECKOUTS = 200;

const checkoutEvent = (i: number, version = 1) =>
  PatientCheckedOut.fromPartial({
    eventId: `e-${i}-${version}`,
    eventVersion: version,
    checkoutId: `CO-${i}`,
    patientId: `P-${i % 37}`,
    admissionId: `ADM-${i}`,
    dischargedAt: new Date('2026-11-21T10:00:00Z'),
    attendingPhysician: { npi: '1467503927', name: 'Dr. Amara Okafor' },
    chargeLines: [
      {
        lineNumber: 1,
        code: '99239',
        description: 'discharge',
        quantity: 1,
        unitPrice: { currency: 'USD', minorUnits: 21_450 },
      },
      {
        lineNumber: 2,
        code: 'RB-SEMI',
        description: 'room',
        quantity: 1 + (i % 5),
        unitPrice: { currency: 'USD', minorUnits: 187_500 },
      },
    ],
  });

describe('billing service: consumes patient.checkout into schema billing', () => {
  let under: ConsumerServiceUnderTest<RunningBilling>;
  let billing: RunningBilling;
  let connection: BrokerConnection;
  let databaseUrl: string;

  beforeAll(async () => {
    under = await startConsumerServiceUnderTest({
      group: 'billing',
      role: billingRole,
      start: (environment) =>
        startBilling(
          loadBillingConfig({
            BILLING_DATABASE_URL: environment.databaseUrl,
            BROKER_ADDRESS: environment.brokerAddress,
            BILLING_PORT: environment.port,
          }),
          pino({ level: 'silent' }),
        ),
    });
    ({ connection, databaseUrl, service: billing } = under);
  });
  afterAll(() => under?.close());

  const caughtUp = () => under.caughtUp();

  async function rows(): Promise<{ invoices: number; lines: number; total: string }> {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    const {
      rows: [row],
    } = await client.query(
      'SELECT (SELECT count(*) FROM invoice)::int AS invoices, (SELECT count(*) FROM invoice_line)::int AS lines, (SELECT coalesce(sum(total_minor), 0)::text FROM invoice) AS total',
    );
    await client.end();
    return row;
  }

  it('writes one invoice per checkout, sends a malformed and an invalid event to the DLQ with reasons, and keeps going', async () => {
    const producer = new Producer(connection);
    await producer.send({
      topic: 'patient.checkout',
      messages: Array.from({ length: CHECKOUTS / 2 }, (_, i) => ({
        key: `P-${i % 37}`,
        value: Buffer.from(PatientCheckedOut.encode(checkoutEvent(i)).finish()),
      })),
    });
    await producer.send({
      topic: 'patient.checkout',
      messages: [
        { key: 'P-bad', value: Buffer.from([0xff, 0xff, 0xff]) },
        {
          key: 'P-empty',
          value: Buffer.from(
            PatientCheckedOut.encode(
              PatientCheckedOut.fromPartial({
                checkoutId: 'CO-x',
                patientId: 'P-x',
                eventVersion: 1,
              }),
            ).finish(),
          ),
        },
      ],
    });
    await producer.send({
      topic: 'patient.checkout',
      messages: Array.from({ length: CHECKOUTS / 2 }, (_, j) => j + CHECKOUTS / 2).map((i) => ({
        key: `P-${i % 37}`,
        value: Buffer.from(PatientCheckedOut.encode(checkoutEvent(i)).finish()),
      })),
    });
    await caughtUp();

    const expectedTotal = Array.from(
      { length: CHECKOUTS },
      (_, i) => 21_450 + (1 + (i % 5)) * 187_500,
    ).reduce((a, b) => a + b, 0);
    expect(await rows()).toEqual({
      invoices: CHECKOUTS,
      lines: 2 * CHECKOUTS,
      total: String(expectedTotal),
    });

    const dlq = await connection.call('fetch', {
      maxWaitMs: 5_000,
      minBytes: 1,
      maxBytes: 1 << 20,
      topics: [
        {
          name: 'patient.checkout.dlq',
          partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 0 }],
        },
      ],
    });
    const reasons = dlq.topics[0].partitions[0].batches
      .flatMap(decodeRecordBatch)
      .map((record) => record.headers['dlq-reason'].toString());
    expect(reasons).toEqual([expect.stringMatching(/^undecodable/), 'there are no charge lines']);

    // /health asks the database; /metrics counts what happened, in Prometheus text.
    const base = await billing.app.getUrl();
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^billing_events_dead_lettered_total 2$/m);
    expect(metrics).toMatch(/^billing_consumer_lag\{topic="patient.checkout",partition="\d"\} 0$/m);
  });

  it('leaves every table unchanged when the same events are delivered again, and keeps the newest version', async () => {
    const before = await rows();
    const producer = new Producer(connection);
    await producer.send({
      topic: 'patient.checkout',
      messages: [0, 1, 2].map((i) => ({
        key: `P-${i % 37}`,
        value: Buffer.from(PatientCheckedOut.encode(checkoutEvent(i)).finish()),
      })),
    });
    await producer.send({
      topic: 'patient.checkout',
      messages: [
        { key: 'P-5', value: Buffer.from(PatientCheckedOut.encode(checkoutEvent(5, 2)).finish()) },
        { key: 'P-5', value: Buffer.from(PatientCheckedOut.encode(checkoutEvent(5, 1)).finish()) },
      ],
    });
    await caughtUp();
    const after = await rows();
    expect(after.invoices).toBe(before.invoices);
    expect(after.lines).toBe(before.lines);
    const response = await fetch(
      `${await billing.app.getUrl()}/invoices/CO-5`.replace('[::1]', '127.0.0.1'),
    );
    expect(await response.json()).toMatchObject({ checkoutId: 'CO-5', eventVersion: 2 });
    expect(
      (await fetch(`${await billing.app.getUrl()}/invoices/CO-nope`.replace('[::1]', '127.0.0.1')))
        .status,
    ).toBe(404);
  });
});
