import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { BROKER_CLIENT, BrokerClientProxy } from '@hospital/nest-broker';
import { PatientCheckedOut } from '@hospital/proto';
import { CHECKOUT_CONFIG } from './tokens';
import type { CheckoutConfig } from './config';
import { CheckoutMetrics } from './metrics';

export interface Published {
  checkoutId: string;
  eventId: string;
  partition: number;
  offset: number;
}

/** Publishes PatientCheckedOut events, keyed by patient id so a patient's events stay in order. */
@Injectable()
export class CheckoutPublisher implements OnApplicationShutdown {
  constructor(
    @Inject(BROKER_CLIENT) private readonly broker: BrokerClientProxy,
    @Inject(CHECKOUT_CONFIG) private readonly config: CheckoutConfig,
    private readonly metrics: CheckoutMetrics,
  ) {}

  /** Flushes what the producer still holds before the process ends. */
  async onApplicationShutdown(): Promise<void> {
    await this.broker.close();
  }

  async publish(events: PatientCheckedOut[], source: 'api' | 'simulator'): Promise<Published[]> {
    const stop = this.metrics.publishSeconds.startTimer();
    try {
      const acknowledged = await this.broker.sendRecords(
        this.config.topic,
        events.map((event) => ({
          key: event.patientId,
          value: Buffer.from(PatientCheckedOut.encode(event).finish()),
          headers: {
            'content-type': 'application/x-protobuf; proto=hospital.events.v1.PatientCheckedOut',
            'event-id': event.eventId,
          },
        })),
      );
      this.metrics.published.inc({ source }, events.length);
      return acknowledged.map((record, index) => ({
        checkoutId: events[index].checkoutId,
        eventId: events[index].eventId,
        partition: record.partition,
        offset: record.offset,
      }));
    } catch (error) {
      this.metrics.failed.inc(events.length);
      throw error;
    } finally {
      stop();
    }
  }
}
