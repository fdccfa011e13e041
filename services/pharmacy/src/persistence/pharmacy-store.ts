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

export function createPharmacyClient(connectionString: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString }, { schema: 'pharmacy' }) });
}

/**
 * Writes each checkout's discharge medications (one row each) and the
 * partition's next offset in one transaction; an event never overwrites a
 * newer version of the same checkout, and a replay changes nothing.
 */
export async function applyCheckouts(
  prisma: PrismaClient,
  batch: ConsumedBatch,
): Promise<{ written: number; skipped: number }> {
  return prisma.$transaction(async (tx) => {
    let written = 0;
    let skipped = 0;
    for (const event of batch.events) {
      const version = BigInt(event.eventVersion);
      const stored = await tx.dischargeOrder.findUnique({
        where: { checkoutId: event.checkoutId },
        select: { eventVersion: true },
      });
      if (stored && stored.eventVersion >= version) {
        skipped++;
        continue;
      }
      const order = {
        patientId: event.patientId,
        eventVersion: version,
        dischargedAt: event.dischargedAt ?? new Date(0),
        updatedAt: new Date(),
      };
      await tx.dischargeOrder.upsert({
        where: { checkoutId: event.checkoutId },
        create: { checkoutId: event.checkoutId, ...order },
        update: order,
      });
      await tx.dispensedMedication.deleteMany({ where: { checkoutId: event.checkoutId } });
      await tx.dispensedMedication.createMany({
        data: event.dischargeMedications.map((medication, index) => ({
          checkoutId: event.checkoutId,
          lineNumber: index + 1,
          ...medication,
        })),
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
