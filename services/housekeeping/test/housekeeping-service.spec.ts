import { BrokerConnection, Producer } from '@hospital/broker-client';
import type { RunningConsumerService } from '@hospital/service-runtime';
import { decodeRecordBatch, IsolationPrecaution, PatientCheckedOut } from '@hospital/proto';
import {
  checkoutRecord,
  startConsumerServiceUnderTest,
  type ConsumerServiceUnderTest,
} from '@hospital/service-testing';
import { Client } from 'pg';
import pino from 'pino';
import { startHousekeeping } from '../src/app';
import { loadHousekeepingConfig } from '../src/config';

const role = { schema: 'housekeeping', role: 'housekeeping_svc', password: 'hk-pw' };
const ISOLATIONS = [
  IsolationPrecaution.ISOLATION_PRECAUTION_NONE,
  IsolationPrecaution.ISOLATION_PRECAUTION_CONTACT,
  IsolationPrecaution.ISOLATION_PRECAUTION_NONE,
  IsolationPrecaution.ISOLATION_PRECAUTION_AIRBORNE,
];

const checkoutEvent = (i: number, version = 1, room = String(400 + (i % 30))) =>
  PatientCheckedOut.fromPartial({
    eventId: `e-${i}-${version}`,
    eventVersion: version,
    checkoutId: `CO-${i}`,
    patientId: `P-${i % 13}`,
    dischargedAt: new Date('2026-11-21T10:00:00Z'),
    location: { ward: 'ONC-6A', room, bed: i % 2 ? 'A' : 'B', isolation: ISOLATIONS[i % 4] },
  });
const record = checkoutRecord;

describe('housekeeping service: one room-turnover task per discharged bed', () => {
  let under: ConsumerServiceUnderTest<RunningConsumerService>;
  let housekeeping: RunningConsumerService;
  let connection: BrokerConnection;
  let databaseUrl: string;

  beforeAll(async () => {
    under = await startConsumerServiceUnderTest({
      group: 'housekeeping',
      role: role,
      start: (environment) =>
        startHousekeeping(
          loadHousekeepingConfig({
            HOUSEKEEPING_DATABASE_URL: environment.databaseUrl,
            BROKER_ADDRESS: environment.brokerAddress,
            HOUSEKEEPING_PORT: environment.port,
          }),
          pino({ level: 'silent' }),
        ),
    });
    ({ connection, databaseUrl, service: housekeeping } = under);
  });
  afterAll(() => under?.close());

  const caughtUp = () => under.caughtUp();

  it('deep-cleans isolation rooms, keeps the newest version, ignores replays, and dead-letters a checkout without a bed', async () => {
    const producer = new Producer(connection);
    const events = Array.from({ length: 80 }, (_, i) => checkoutEvent(i));
    await producer.send({ topic: 'patient.checkout', messages: events.map(record) });
    await producer.send({
      topic: 'patient.checkout',
      messages: [
        record(
          PatientCheckedOut.fromPartial({
            checkoutId: 'CO-nobed',
            patientId: 'P-1',
            eventVersion: 1,
          }),
        ),
      ],
    });
    await producer.send({
      topic: 'patient.checkout',
      messages: [
        record(checkoutEvent(3, 2, '999')),
        record(checkoutEvent(3, 1)),
        ...events.slice(0, 5).map(record),
      ],
    });
    await caughtUp();

    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ priority: string; count: number }>(
      'SELECT priority, count(*)::int AS count FROM turnover_task GROUP BY priority ORDER BY priority',
    );
    await client.end();
    expect(rows).toEqual([
      { priority: 'deep_clean', count: 40 },
      { priority: 'standard', count: 40 },
    ]);
    const url = (await housekeeping.app.getUrl()).replace('[::1]', '127.0.0.1');
    expect(await (await fetch(`${url}/tasks/CO-3`)).json()).toMatchObject({
      room: '999',
      priority: 'deep_clean',
      eventVersion: 2,
      dueBy: '2026-11-21T11:00:00.000Z',
    });
    expect(await (await fetch(`${url}/tasks/CO-2`)).json()).toMatchObject({
      priority: 'standard',
      dueBy: '2026-11-21T12:00:00.000Z',
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
    expect(
      dlq.topics[0].partitions[0].batches
        .flatMap(decodeRecordBatch)
        .map((entry) => entry.headers['dlq-reason'].toString()),
    ).toEqual(['location (ward, room, bed) is missing']);
  });
});
