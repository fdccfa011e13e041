import { join } from 'node:path';
import {
  applyMigrations,
  bootstrapServiceDatabases,
  readConsumedOffset,
  serviceUrl,
} from '@hospital/db';
import { PatientCheckedOut } from '@hospital/proto';
import { startPostgres, type StartedPostgres } from '@hospital/processes';
import { applyCheckouts, createBillingClient } from '../src/persistence/billing-store';

const billing = { schema: 'billing', role: 'billing_svc', password: 'billing-pw' };

function checkout(
  checkoutId: string,
  version: number,
  lines: [code: string, quantity: number, unit: number][],
): PatientCheckedOut {
  return PatientCheckedOut.fromPartial({
    eventId: `${checkoutId}-v${version}`,
    eventVersion: version,
    checkoutId,
    patientId: `P-${checkoutId}`,
    admissionId: 'ADM-1',
    dischargedAt: new Date('2026-11-21T10:00:00Z'),
    attendingPhysician: { npi: '1467503927', name: 'Dr. Amara Okafor' },
    chargeLines: lines.map(([code, quantity, unit], index) => ({
      lineNumber: index + 1,
      code,
      description: code,
      quantity,
      unitPrice: { currency: 'USD', minorUnits: unit },
    })),
  });
}

describe('billing store: effectively-once writes into schema billing', () => {
  let postgres: StartedPostgres;
  let prisma: ReturnType<typeof createBillingClient>;
  beforeAll(async () => {
    postgres = await startPostgres();
    await bootstrapServiceDatabases(postgres.url, [billing]);
    const url = serviceUrl(postgres.url, billing);
    await applyMigrations(url, 'billing', join(__dirname, '..', 'prisma', 'migrations'));
    prisma = createBillingClient(url);
  });
  afterAll(async () => {
    await prisma?.$disconnect();
    await postgres?.stop();
  });

  const snapshot = async () =>
    (
      await prisma.invoice.findMany({
        include: { lines: { orderBy: { lineNumber: 'asc' } } },
        orderBy: { checkoutId: 'asc' },
      })
    ).map((invoice) => ({
      checkoutId: invoice.checkoutId,
      version: Number(invoice.eventVersion),
      total: Number(invoice.totalMinor),
      lines: invoice.lines.map((line) => `${line.code}x${line.quantity}`),
    }));

  it('writes invoices with their lines and the next offset in one transaction; a replay changes nothing', async () => {
    const batch = {
      topic: 'patient.checkout',
      partition: 2,
      nextOffset: 3,
      events: [
        checkout('CO-1', 1, [
          ['99239', 1, 21_450],
          ['RB-SEMI', 3, 187_500],
        ]),
        checkout('CO-2', 1, [['80053', 2, 4_820]]),
        checkout('CO-3', 1, [['93000', 1, 6_150]]),
      ],
    };
    await expect(applyCheckouts(prisma, batch)).resolves.toEqual({ written: 3, skipped: 0 });
    const first = await snapshot();
    expect(first[0]).toEqual({
      checkoutId: 'CO-1',
      version: 1,
      total: 21_450 + 3 * 187_500,
      lines: ['99239x1', 'RB-SEMIx3'],
    });
    await expect(applyCheckouts(prisma, batch)).resolves.toEqual({ written: 0, skipped: 3 });
    expect(await snapshot()).toEqual(first);
    await expect(readConsumedOffset(prisma, 'billing', 'patient.checkout', 2)).resolves.toBe(3);
    await expect(
      readConsumedOffset(prisma, 'billing', 'patient.checkout', 0),
    ).resolves.toBeUndefined();
  });

  it('lets a newer version replace the invoice and never lets an older one overwrite it', async () => {
    await applyCheckouts(prisma, {
      topic: 'patient.checkout',
      partition: 2,
      nextOffset: 4,
      events: [checkout('CO-1', 3, [['99239', 1, 21_450]])],
    });
    await expect(
      applyCheckouts(prisma, {
        topic: 'patient.checkout',
        partition: 2,
        nextOffset: 5,
        events: [checkout('CO-1', 2, [['RB-SEMI', 9, 187_500]])],
      }),
    ).resolves.toEqual({ written: 0, skipped: 1 });
    expect((await snapshot())[0]).toEqual({
      checkoutId: 'CO-1',
      version: 3,
      total: 21_450,
      lines: ['99239x1'],
    });
    await expect(readConsumedOffset(prisma, 'billing', 'patient.checkout', 2)).resolves.toBe(5);
  });

  it('ends a batch holding duplicates and out-of-order versions of one checkout in the newest version', async () => {
    await expect(
      applyCheckouts(prisma, {
        topic: 'patient.checkout',
        partition: 1,
        nextOffset: 3,
        events: [
          checkout('CO-4', 2, [['80053', 2, 4_820]]),
          checkout('CO-4', 1, [['99239', 1, 21_450]]),
          checkout('CO-4', 2, [['80053', 2, 4_820]]),
        ],
      }),
    ).resolves.toEqual({ written: 1, skipped: 2 });
    expect((await snapshot()).find((invoice) => invoice.checkoutId === 'CO-4')).toEqual({
      checkoutId: 'CO-4',
      version: 2,
      total: 9_640,
      lines: ['80053x2'],
    });
  });
});
