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
import type { PharmacyConfig } from './config';
import type { PrismaClient } from './generated/prisma/client';
import { applyCheckouts } from './persistence/pharmacy-store';

/** Why pharmacy cannot take the event; a checkout without medications is fine (nothing to dispense). */
export function rejectionReason(event: PatientCheckedOut): string | undefined {
  if (!event.checkoutId) return 'checkout_id is missing';
  if (!event.patientId) return 'patient_id is missing';
  if (event.eventVersion < 1) return 'event_version must be at least 1';
  if (
    event.dischargeMedications.some(
      (medication) => !medication.rxnormCode || medication.quantity < 1,
    )
  )
    return 'a discharge medication has no RxNorm code or quantity';
  return undefined;
}

/** Consumes patient.checkout as group "pharmacy": one row per discharge medication. */
@Controller()
export class CheckoutHandler {
  constructor(
    @Inject(DATABASE) private readonly prisma: PrismaClient,
    @Inject(DEAD_LETTERS) private readonly deadLetters: BrokerClientProxy,
    @Inject(SERVICE_CONFIG) private readonly config: PharmacyConfig,
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
