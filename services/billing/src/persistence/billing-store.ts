import { PrismaPg } from '@prisma/adapter-pg';
import type { PatientCheckedOut } from '@hospital/proto';
import { PrismaClient } from '../generated/prisma/client';

export interface ConsumedBatch {
  topic: string;
  partition: number;
  /** The offset after the last record of the batch. */
  nextOffset: number;
  events: PatientCheckedOut[];
}

export interface ApplyResult {
  written: number;
  /** Events older than (or as old as) what is stored: redeliveries and out-of-order versions. */
  skipped: number;
}

export function createBillingClient(connectionString: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString }, { schema: 'billing' }) });
}

/**
 * Writes a batch of checkouts and the partition's next offset in one
 * transaction (effectively-once): replaying the batch changes nothing, and an
 * event never overwrites a newer version of the same checkout.
 */
export async function applyCheckouts(
  prisma: PrismaClient,
  batch: ConsumedBatch,
): Promise<ApplyResult> {
  return prisma.$transaction(async (tx) => {
    let written = 0;
    let skipped = 0;
    for (const event of batch.events) {
      const version = BigInt(event.eventVersion);
      const stored = await tx.invoice.findUnique({
        where: { checkoutId: event.checkoutId },
        select: { eventVersion: true },
      });
      if (stored && stored.eventVersion >= version) {
        skipped++;
        continue;
      }
      const lines = event.chargeLines.map((line) => ({
        lineNumber: line.lineNumber,
        code: line.code,
        description: line.description,
        quantity: line.quantity,
        unitPriceMinor: BigInt(line.unitPrice?.minorUnits ?? 0),
        amountMinor: BigInt(line.unitPrice?.minorUnits ?? 0) * BigInt(line.quantity),
      }));
      const invoice = {
        patientId: event.patientId,
        admissionId: event.admissionId,
        eventVersion: version,
        currency: event.chargeLines[0]?.unitPrice?.currency ?? 'USD',
        totalMinor: lines.reduce((sum, line) => sum + line.amountMinor, 0n),
        dischargedAt: event.dischargedAt ?? new Date(0),
        attendingNpi: event.attendingPhysician?.npi ?? '',
        updatedAt: new Date(),
      };
      await tx.invoice.upsert({
        where: { checkoutId: event.checkoutId },
        create: { checkoutId: event.checkoutId, ...invoice },
        update: invoice,
      });
      await tx.invoiceLine.deleteMany({ where: { checkoutId: event.checkoutId } });
      await tx.invoiceLine.createMany({
        data: lines.map((line) => ({ checkoutId: event.checkoutId, ...line })),
      });
      written++;
    }
    await tx.consumedOffset.upsert({
      where: { topic_partition: { topic: batch.topic, partition: batch.partition } },
      create: {
        topic: batch.topic,
        partition: batch.partition,
        nextOffset: BigInt(batch.nextOffset),
      },
      update: { nextOffset: BigInt(batch.nextOffset), updatedAt: new Date() },
    });
    return { written, skipped };
  });
}

/** The next offset this service stored for a partition, if any (the consumer resumes from the later of this and the broker's). */
export async function storedOffset(
  prisma: PrismaClient,
  topic: string,
  partition: number,
): Promise<number | undefined> {
  const row = await prisma.consumedOffset.findUnique({
    where: { topic_partition: { topic, partition } },
  });
  return row ? Number(row.nextOffset) : undefined;
}
