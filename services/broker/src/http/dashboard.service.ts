import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { exhaustMap, shareReplay, timer, type Observable } from 'rxjs';
import { Broker } from '../broker';
import { buildDashboardSnapshot } from './dashboard-snapshot';
import type { ControlsView, DashboardSnapshot } from '@hospital/admin-api';
import { GroupSeries } from './group-series';
import { RateTracker } from './rate-tracker';
import { ReplicaControls } from './controls/replica-controls';

/** How often watchers get a fresh snapshot. */
export const DASHBOARD_UPDATE_MS = 1_000;

const NO_CONTROLS: ControlsView = { available: false, replicas: [] };

/** The broker's state as the dashboard shows it, once or as a live stream. */
@Injectable()
export class DashboardService implements OnModuleDestroy {
  private readonly rates = new RateTracker();
  private readonly series = new GroupSeries();
  /** One snapshot per tick, shared by every watcher; the newest is replayed to a new one. Stops when nobody watches. */
  readonly updates: Observable<DashboardSnapshot> = timer(0, DASHBOARD_UPDATE_MS).pipe(
    exhaustMap(() => this.snapshot()),
    shareReplay({ bufferSize: 1, refCount: true }),
  );

  /** Samples the counters while nobody watches too, so the first snapshot already has rates. */
  private readonly sampler = setInterval(
    () => this.build(NO_CONTROLS),
    DASHBOARD_UPDATE_MS,
  ).unref();

  constructor(
    private readonly broker: Broker,
    private readonly supervisor: ReplicaControls,
  ) {}

  async snapshot(): Promise<DashboardSnapshot> {
    return this.build(await this.supervisor.view());
  }

  onModuleDestroy(): void {
    clearInterval(this.sampler);
  }

  private build(controls: ControlsView): DashboardSnapshot {
    return buildDashboardSnapshot(
      {
        nowMs: this.broker.clock.now(),
        topics: this.broker.store.list().map((topic) => this.broker.topics.describe(topic)),
        groups: this.broker.groups.describeAll(),
        controls,
      },
      this.rates,
      this.series,
    );
  }
}
