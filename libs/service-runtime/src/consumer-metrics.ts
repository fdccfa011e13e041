import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** The Prometheus metrics every consumer service exposes, named `<service>_…`. */
export class ConsumerMetrics {
  readonly registry = new Registry();
  readonly consumed: Counter;
  readonly written: Counter;
  readonly skipped: Counter;
  readonly deadLettered: Counter;
  readonly lag: Gauge<'topic' | 'partition'>;

  constructor(service: string) {
    const counter = (name: string, help: string) =>
      new Counter({ name: `${service}_${name}`, help, registers: [this.registry] });
    this.consumed = counter('events_consumed_total', 'PatientCheckedOut events handled');
    this.written = counter(
      'rows_written_total',
      'events written (new checkouts or newer versions)',
    );
    this.skipped = counter('events_skipped_total', 'redelivered or older versions left unchanged');
    this.deadLettered = counter(
      'events_dead_lettered_total',
      'events sent to the dead-letter topic',
    );
    this.lag = new Gauge({
      name: `${service}_consumer_lag`,
      help: 'records between the last batch handled and the log end, per partition',
      labelNames: ['topic', 'partition'],
      registers: [this.registry],
    });
    collectDefaultMetrics({ register: this.registry, prefix: `${service}_` });
  }
}
