import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { BrokerClientProxy, BrokerContext, handleOrDeadLetter } from '@hospital/nest-broker';
import { PatientCheckedOut } from '@hospital/proto';
import type { Logger } from 'pino';
import type { HousekeepingConfig } from './config';
import type { PrismaClient } from './generated/prisma/client';
import { HousekeepingMetrics } from './metrics';
import { applyCheckouts } from './persistence/housekeeping-store';
import { DEAD_LETTERS, LOGGER, HOUSEKEEPING_CONFIG, PRISMA } from './tokens';

/** Why housekeeping cannot take the event: it needs the bed that was freed. */
export function rejectionReason(event: PatientCheckedOut): string | undefined {
  if (!event.checkoutId) return 'checkout_id is missing';
  if (event.eventVersion < 1) return 'event_version must be at least 1';
  if (!event.location?.ward || !event.location.room || !event.location.bed)
    return 'location (ward, room, bed) is missing';
  return undefined;
}

/** Consumes patient.checkout as group "housekeeping": one room-turnover task per discharged bed. */
@Controller()
export class CheckoutHandler {
  constructor(
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(DEAD_LETTERS) private readonly deadLetters: BrokerClientProxy,
    @Inject(HOUSEKEEPING_CONFIG) private readonly config: HousekeepingConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: HousekeepingMetrics,
  ) {}

  @EventPattern('patient.checkout')
  async onCheckout(@Payload() value: Buffer, @Ctx() context: BrokerContext): Promise<void> {
    const { deadLettered } = await handleOrDeadLetter(value, context, {
      deadLetters: this.deadLetters,
      deadLetterTopic: this.config.deadLetterTopic,
      groupId: this.config.groupId,
      decode: (bytes) => PatientCheckedOut.decode(bytes),
      reject: rejectionReason,
      apply: async (event, position) => {
        const result = await applyCheckouts(this.prisma, { ...position, events: [event] });
        this.metrics.upserted.inc(result.written);
        this.metrics.skipped.inc(result.skipped);
      },
      skip: async (position) =>
        void (await applyCheckouts(this.prisma, { ...position, events: [] })),
    });
    this.metrics.consumed.inc();
    if (deadLettered) {
      this.metrics.deadLettered.inc();
      this.logger.warn(
        { partition: context.getPartition(), offset: context.getOffset(), reason: deadLettered },
        'event sent to the dead-letter topic',
      );
    }
  }
}
