import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  BrokerClientProxy,
  BrokerContext,
  ConsumerMetrics,
  DATABASE,
  DEAD_LETTERS,
  handleOrDeadLetter,
  SERVICE_CONFIG,
  SERVICE_LOGGER,
} from '@hospital/nest-broker';
import { PatientCheckedOut } from '@hospital/proto';
import type { Logger } from 'pino';
import type { HousekeepingConfig } from './config';
import type { PrismaClient } from './generated/prisma/client';
import { applyCheckouts } from './persistence/housekeeping-store';

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
    @Inject(DATABASE) private readonly prisma: PrismaClient,
    @Inject(DEAD_LETTERS) private readonly deadLetters: BrokerClientProxy,
    @Inject(SERVICE_CONFIG) private readonly config: HousekeepingConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    private readonly metrics: ConsumerMetrics,
  ) {}

  @EventPattern('patient.checkout')
  async onCheckout(@Payload() value: Buffer, @Ctx() context: BrokerContext): Promise<void> {
    await handleOrDeadLetter(value, context, {
      deadLetters: this.deadLetters,
      deadLetterTopic: this.config.deadLetterTopic,
      groupId: this.config.groupId,
      decode: (bytes) => PatientCheckedOut.decode(bytes),
      reject: rejectionReason,
      apply: (event, position) => applyCheckouts(this.prisma, { ...position, events: [event] }),
      skip: (position) => applyCheckouts(this.prisma, { ...position, events: [] }),
      metrics: this.metrics,
      logger: this.logger,
    });
  }
}
