import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Checkout's Prometheus metrics, on its own registry. */
export class CheckoutMetrics {
  readonly registry = new Registry();
  readonly published = new Counter({
    name: 'checkout_events_published_total',
    help: 'PatientCheckedOut events acknowledged by the broker',
    labelNames: ['source'],
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'checkout_requests_rejected_total',
    help: 'POST /checkouts bodies refused with 400',
    registers: [this.registry],
  });
  readonly failed = new Counter({
    name: 'checkout_publish_failures_total',
    help: 'events the broker did not acknowledge',
    registers: [this.registry],
  });
  readonly publishSeconds = new Histogram({
    name: 'checkout_publish_seconds',
    help: 'time from request to broker acknowledgement',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
