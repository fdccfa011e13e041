import { PrismaPg } from '@prisma/adapter-pg';
import type { PatientCheckedOut } from '@hospital/proto';
import { turnoverFor } from '../domain/turnover';
import { PrismaClient } from '../generated/prisma/client';

export interface ConsumedBatch {
  topic: string;
  partition: number;
  nextOffset: number;
  events: PatientCheckedOut[];
}

export function createHousekeepingClient(connectionString: string): PrismaClient {
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString }, { schema: 'housekeeping' }),
  });
}

/**
 * Writes one turnover task per checkout and the partition's next offset in
 * one transaction. The update only applies when the event is newer than the
 * stored task, so replays and out-of-order versions change nothing.
 */
export async function applyCheckouts(
  prisma: PrismaClient,
  batch: ConsumedBatch,
): Promise<{ written: number; skipped: number }> {
  return prisma.$transaction(async (tx) => {
    let written = 0;
    for (const event of batch.events) {
      const turnover = turnoverFor(event);
      const task = {
        ward: event.location?.ward ?? '',
        room: event.location?.room ?? '',
        bed: event.location?.bed ?? '',
        ...turnover,
        eventVersion: BigInt(event.eventVersion),
        updatedAt: new Date(),
      };
      const created = await tx.turnoverTask.createMany({
        data: [{ checkoutId: event.checkoutId, ...task }],
        skipDuplicates: true,
      });
      if (created.count === 1) {
        written++;
        continue;
      }
      const updated = await tx.turnoverTask.updateMany({
        where: { checkoutId: event.checkoutId, eventVersion: { lt: task.eventVersion } },
        data: task,
      });
      written += updated.count;
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
    return { written, skipped: batch.events.length - written };
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
