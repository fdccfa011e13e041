import { PrismaPg } from '@prisma/adapter-pg';
import { writeVersionedBatch, type ConsumedPosition, type VersionedRowsSpec } from '@hospital/db';
import type { PatientCheckedOut } from '@hospital/proto';
import { PrismaClient } from '../generated/prisma/client';

export const SCHEMA = 'pharmacy';

export interface ConsumedBatch extends ConsumedPosition {
  events: PatientCheckedOut[];
}

export function createPharmacyClient(connectionString: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString }, { schema: SCHEMA }) });
}

/** A discharge order per checkout, one dispensed-medication row per discharge medication. */
const CHECKOUT_ROWS: VersionedRowsSpec<PatientCheckedOut> = {
  schema: SCHEMA,
  parent: {
    schema: SCHEMA,
    table: 'discharge_order',
    key: 'checkout_id',
    version: 'event_version',
    touched: 'updated_at',
    columns: {
      checkout_id: 'text',
      patient_id: 'text',
      event_version: 'bigint',
      discharged_at: 'timestamptz',
    },
  },
  children: {
    schema: SCHEMA,
    table: 'dispensed_medication',
    parentKey: 'checkout_id',
    key: ['checkout_id', 'line_number'],
    columns: {
      checkout_id: 'text',
      line_number: 'int',
      rxnorm_code: 'text',
      name: 'text',
      dose: 'text',
      route: 'text',
      frequency: 'text',
      quantity: 'int',
      days_supply: 'int',
    },
  },
  key: (event) => event.checkoutId,
  version: (event) => event.eventVersion,
  rows: (event) => ({
    parent: {
      checkout_id: event.checkoutId,
      patient_id: event.patientId,
      event_version: BigInt(event.eventVersion),
      discharged_at: event.dischargedAt ?? new Date(0),
    },
    children: event.dischargeMedications.map((medication, index) => ({
      checkout_id: event.checkoutId,
      line_number: index + 1,
      rxnorm_code: medication.rxnormCode,
      name: medication.name,
      dose: medication.dose,
      route: medication.route,
      frequency: medication.frequency,
      quantity: medication.quantity,
      days_supply: medication.daysSupply,
    })),
  }),
};

/**
 * Writes each checkout's discharge medications and the partition's next
 * offset in one statement; an event never overwrites a newer version of the
 * same checkout, and a replay changes nothing.
 */
export function applyCheckouts(
  prisma: PrismaClient,
  batch: ConsumedBatch,
): Promise<{ written: number; skipped: number }> {
  return writeVersionedBatch(prisma, CHECKOUT_ROWS, batch.events, batch);
}
