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
import type { BillingConfig } from './config';
import { applyCheckouts } from './persistence/billing-store';
import type { PrismaClient } from './generated/prisma/client';

/** Why an event cannot be billed; undefined when it can. */
export function rejectionReason(event: PatientCheckedOut): string | undefined {
  if (!event.checkoutId) return 'checkout_id is missing';
  if (!event.patientId) return 'patient_id is missing';
  if (event.eventVersion < 1) return 'event_version must be at least 1';
  if (event.chargeLines.length === 0) return 'there are no charge lines';
  if (event.chargeLines.some((line) => line.quantity < 1 || !line.unitPrice))
    return 'a charge line has no quantity or price';
  return undefined;
}

/**
 * Consumes patient.checkout as group "billing". Each record is written with
 * its offset in one transaction; a record that cannot be decoded or validated
 * goes to the dead-letter topic with its reason, and the group moves on.
 */
@Controller()
export class CheckoutHandler {
  constructor(
    @Inject(DATABASE) private readonly prisma: PrismaClient,
    @Inject(DEAD_LETTERS) private readonly deadLetters: BrokerClientProxy,
    @Inject(SERVICE_CONFIG) private readonly config: BillingConfig,
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
