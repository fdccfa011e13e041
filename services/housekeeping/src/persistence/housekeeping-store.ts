import { PrismaPg } from '@prisma/adapter-pg';
import { writeVersionedBatch, type ConsumedPosition, type VersionedRowsSpec } from '@hospital/db';
import type { PatientCheckedOut } from '@hospital/proto';
import { turnoverFor } from '../domain/turnover';
import { PrismaClient } from '../generated/prisma/client';

export const SCHEMA = 'housekeeping';

export interface ConsumedBatch extends ConsumedPosition {
  events: PatientCheckedOut[];
}

export function createHousekeepingClient(connectionString: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString }, { schema: SCHEMA }) });
}

/** One room-turnover task per checkout, prioritised by the room's isolation precaution. */
const CHECKOUT_ROWS: VersionedRowsSpec<PatientCheckedOut> = {
  schema: SCHEMA,
  parent: {
    schema: SCHEMA,
    table: 'turnover_task',
    key: 'checkout_id',
    version: 'event_version',
    touched: 'updated_at',
    columns: {
      checkout_id: 'text',
      ward: 'text',
      room: 'text',
      bed: 'text',
      priority: 'text',
      protocol: 'text',
      due_by: 'timestamptz',
      event_version: 'bigint',
    },
  },
  key: (event) => event.checkoutId,
  version: (event) => event.eventVersion,
  rows: (event) => {
    const turnover = turnoverFor(event);
    return {
      parent: {
        checkout_id: event.checkoutId,
        ward: event.location?.ward ?? '',
        room: event.location?.room ?? '',
        bed: event.location?.bed ?? '',
        priority: turnover.priority,
        protocol: turnover.protocol,
        due_by: turnover.dueBy,
        event_version: BigInt(event.eventVersion),
      },
    };
  },
};

/**
 * Writes one turnover task per checkout and the partition's next offset in
 * one statement. A task is replaced only by a newer event, so replays and
 * out-of-order versions change nothing.
 */
export function applyCheckouts(
  prisma: PrismaClient,
  batch: ConsumedBatch,
): Promise<{ written: number; skipped: number }> {
  return writeVersionedBatch(prisma, CHECKOUT_ROWS, batch.events, batch);
}
