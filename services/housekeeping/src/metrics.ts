import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

export class HousekeepingMetrics {
  readonly registry = new Registry();
  readonly consumed = new Counter({
    name: 'housekeeping_events_consumed_total',
    help: 'PatientCheckedOut events handled',
    registers: [this.registry],
  });
  readonly upserted = new Counter({
    name: 'housekeeping_tasks_upserted_total',
    help: 'turnover tasks written',
    registers: [this.registry],
  });
  readonly skipped = new Counter({
    name: 'housekeeping_events_skipped_total',
    help: 'redelivered or older versions left unchanged',
    registers: [this.registry],
  });
  readonly deadLettered = new Counter({
    name: 'housekeeping_events_dead_lettered_total',
    help: 'events sent to the dead-letter topic',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
