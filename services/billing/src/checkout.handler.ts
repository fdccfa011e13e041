import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { BrokerClientProxy, BrokerContext, handleOrDeadLetter } from '@hospital/nest-broker';
import { PatientCheckedOut } from '@hospital/proto';
import type { Logger } from 'pino';
import type { BillingConfig } from './config';
import { BillingMetrics } from './metrics';
import { applyCheckouts } from './persistence/billing-store';
import type { PrismaClient } from './generated/prisma/client';
import { BILLING_CONFIG, DEAD_LETTERS, LOGGER, PRISMA } from './tokens';

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
    @Inject(PRISMA) private readonly prisma: PrismaClient,
    @Inject(DEAD_LETTERS) private readonly deadLetters: BrokerClientProxy,
    @Inject(BILLING_CONFIG) private readonly config: BillingConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly metrics: BillingMetrics,
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
        {
          topic: context.getTopic(),
          partition: context.getPartition(),
          offset: context.getOffset(),
          reason: deadLettered,
        },
        'event sent to the dead-letter topic',
      );
    }
  }
}
