import { PrismaPg } from '@prisma/adapter-pg';
import {
  writeVersionedBatch,
  type ChildTableSpec,
  type ConsumedPosition,
  type SqlRow,
  type VersionedRowsSpec,
  type VersionedTableSpec,
} from '@hospital/db';
import type { PatientCheckedOut } from '@hospital/proto';
import { PrismaClient } from '../generated/prisma/client';

export const SCHEMA = 'billing';

export interface ConsumedBatch extends ConsumedPosition {
  events: PatientCheckedOut[];
}

export interface ApplyResult {
  written: number;
  /** Events older than (or as old as) what is stored: redeliveries and out-of-order versions. */
  skipped: number;
}

const INVOICE: VersionedTableSpec = {
  schema: SCHEMA,
  table: 'invoice',
  key: 'checkout_id',
  version: 'event_version',
  touched: 'updated_at',
  columns: {
    checkout_id: 'text',
    patient_id: 'text',
    admission_id: 'text',
    event_version: 'bigint',
    currency: 'text',
    total_minor: 'bigint',
    discharged_at: 'timestamptz',
    attending_npi: 'text',
  },
};

const INVOICE_LINE: ChildTableSpec = {
  schema: SCHEMA,
  table: 'invoice_line',
  parentKey: 'checkout_id',
  key: ['checkout_id', 'line_number'],
  columns: {
    checkout_id: 'text',
    line_number: 'int',
    code: 'text',
    description: 'text',
    quantity: 'int',
    unit_price_minor: 'bigint',
    amount_minor: 'bigint',
  },
};

export function createBillingClient(connectionString: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString }, { schema: SCHEMA }) });
}

/**
 * An invoice and its lines for one checkout: each charge line priced at
 * quantity × unit price. Only events that passed `rejectionReason` get here:
 * one currency, a discharge time.
 */
export function invoiceRows(event: PatientCheckedOut): { invoice: SqlRow; lines: SqlRow[] } {
  const currency = event.chargeLines[0]?.unitPrice?.currency;
  if (!event.dischargedAt || !currency)
    throw new Error(`checkout ${event.checkoutId} has no discharge time or currency`);
  const lines = event.chargeLines.map((line) => {
    const unitPrice = BigInt(line.unitPrice?.minorUnits ?? 0);
    return {
      checkout_id: event.checkoutId,
      line_number: line.lineNumber,
      code: line.code,
      description: line.description,
      quantity: line.quantity,
      unit_price_minor: unitPrice,
      amount_minor: unitPrice * BigInt(line.quantity),
    };
  });
  return {
    invoice: {
      checkout_id: event.checkoutId,
      patient_id: event.patientId,
      admission_id: event.admissionId,
      event_version: BigInt(event.eventVersion),
      currency,
      total_minor: lines.reduce((sum, line) => sum + line.amount_minor, 0n),
      discharged_at: event.dischargedAt,
      attending_npi: event.attendingPhysician?.npi ?? '',
    },
    lines,
  };
}

const CHECKOUT_ROWS: VersionedRowsSpec<PatientCheckedOut> = {
  schema: SCHEMA,
  parent: INVOICE,
  children: INVOICE_LINE,
  key: (event) => event.checkoutId,
  version: (event) => event.eventVersion,
  rows: (event) => {
    const { invoice, lines } = invoiceRows(event);
    return { parent: invoice, children: lines };
  },
};

/**
 * Writes a batch of checkouts and the partition's next offset in one
 * statement (effectively-once), set-based whatever the batch size. Replaying a batch changes nothing, and an event never
 * overwrites a newer version of the same checkout.
 */
export function applyCheckouts(prisma: PrismaClient, batch: ConsumedBatch): Promise<ApplyResult> {
  return writeVersionedBatch(prisma, CHECKOUT_ROWS, batch.events, batch);
}
