import { BrokerConnection, Producer } from '@hospital/broker-client';
import type { RunningConsumerService } from '@hospital/service-runtime';
import { decodeRecordBatch, PatientCheckedOut } from '@hospital/proto';
import {
  checkoutRecord,
  startConsumerServiceUnderTest,
  type ConsumerServiceUnderTest,
} from '@hospital/service-testing';
import pino from 'pino';
import { startPharmacy } from '../src/app';
import { loadPharmacyConfig } from '../src/config';

const pharmacyRole = { schema: 'pharmacy', role: 'pharmacy_svc', password: 'pharmacy-pw' };
const billingRole = { schema: 'billing', role: 'billing_svc', password: 'billing-pw' };

const medication = (rxnormCode: string, quantity: number) => ({
  rxnormCode,
  name: `drug ${rxnormCode}`,
  dose: '5 mg',
  route: 'oral',
  frequency: 'once daily',
  quantity,
  daysSupply: 30,
});
const checkoutEvent = (i: number, version = 1) =>
  PatientCheckedOut.fromPartial({
    eventId: `e-${i}-${version}`,
    eventVersion: version,
    checkoutId: `CO-${i}`,
    patientId: `P-${i % 11}`,
    dischargedAt: new Date('2026-11-21T10:00:00Z'),
    dischargeMedications: Array.from({ length: i % 4 }, (_, m) =>
      medication(String(197_361 + m), 30 * version),
    ),
  });
const record = checkoutRecord;

describe('pharmacy service: one row per discharge medication in schema pharmacy', () => {
  let under: ConsumerServiceUnderTest<RunningConsumerService>;
  let pharmacy: RunningConsumerService;
  let connection: BrokerConnection;
  let databaseUrl: string;

  beforeAll(async () => {
    under = await startConsumerServiceUnderTest({
      group: 'pharmacy',
      role: pharmacyRole,
      otherRoles: [billingRole],
      start: (environment) =>
        startPharmacy(
          loadPharmacyConfig({
            PHARMACY_DATABASE_URL: environment.databaseUrl,
            BROKER_ADDRESS: environment.brokerAddress,
            PHARMACY_PORT: environment.port,
          }),
          pino({ level: 'silent' }),
        ),
    });
    ({ connection, databaseUrl, service: pharmacy } = under);
  });
  afterAll(() => under?.close());

  const caughtUp = () => under.caughtUp();

  const query = <T extends object>(url: string, sql: string) => under.query<T>(sql, url);

  it('writes every discharge medication once, dead-letters an invalid one, and ignores redeliveries and older versions', async () => {
    const producer = new Producer(connection);
    const events = Array.from({ length: 120 }, (_, i) => checkoutEvent(i));
    await producer.send({ topic: 'patient.checkout', messages: events.map(record) });
    await producer.send({
      topic: 'patient.checkout',
      messages: [
        record(
          PatientCheckedOut.fromPartial({
            checkoutId: 'CO-bad',
            patientId: 'P-1',
            eventVersion: 1,
            dischargeMedications: [medication('', 0)],
          }),
        ),
      ],
    });
    await producer.send({
      topic: 'patient.checkout',
      messages: [
        record(checkoutEvent(7, 2)),
        record(checkoutEvent(7, 1)),
        ...events.slice(0, 10).map(record),
      ],
    });
    await caughtUp();

    const expectedRows = events.reduce((sum, event) => sum + event.dischargeMedications.length, 0);
    await expect(
      query(
        databaseUrl,
        'SELECT (SELECT count(*) FROM discharge_order)::int AS orders, (SELECT count(*) FROM dispensed_medication)::int AS rows',
      ),
    ).resolves.toEqual([{ orders: 120, rows: expectedRows }]);
    const url = (await pharmacy.app.getUrl()).replace('[::1]', '127.0.0.1');
    expect(await (await fetch(`${url}/checkouts/CO-7/medications`)).json()).toMatchObject({
      eventVersion: 2,
      medications: [{ quantity: 60 }, { quantity: 60 }, { quantity: 60 }],
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
    const dead = dlq.topics[0].partitions[0].batches.flatMap(decodeRecordBatch);
    expect(
      dead.map((entry) => [
        entry.headers['dlq-group'].toString(),
        entry.headers['dlq-reason'].toString(),
      ]),
    ).toEqual([['pharmacy', 'a discharge medication has no RxNorm code or quantity']]);
  });

  it("is confined to its schema: pharmacy's role gets permission denied on schema billing", async () => {
    await expect(query(databaseUrl, 'CREATE TABLE billing.sneaky (id int)')).rejects.toThrow(
      /permission denied for schema billing/,
    );
  });
});
