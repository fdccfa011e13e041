import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Controller,
  Get,
  Header,
  Inject,
  NotFoundException,
  Param,
  ServiceUnavailableException,
  Sse,
  type MessageEvent,
} from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import type { Registry } from 'prom-client';
import { Broker, type FailedPartition } from '../broker';
import { DashboardService } from './dashboard.service';
import {
  groupHistoryView,
  type DashboardSnapshot,
  type GroupHistoryView,
} from '@hospital/admin-api';
import { ErrorReason } from '@hospital/proto';
import { BrokerError } from '../errors/broker-error';

export const DASHBOARD_DIR = Symbol('DASHBOARD_DIR');
/** The dashboard's modules (services/broker/dashboard/<name>.js). */
export const DASHBOARD_SCRIPTS = [
  'dashboard',
  'dom',
  'seed-view',
  'sequence-view',
  'charts',
  'forms',
];
export const BROKER_METRICS = Symbol('BROKER_METRICS');

/** The dashboard page, its data (once, or live as server-sent events), health and metrics. */
@Controller()
export class DashboardController {
  private readonly assets: { html: string; css: string; scripts: Map<string, string> };

  constructor(
    private readonly dashboard: DashboardService,
    private readonly broker: Broker,
    @Inject(DASHBOARD_DIR) dashboardDir: string,
    @Inject(BROKER_METRICS) private readonly metrics: Registry,
  ) {
    // Small and fixed: read once, so serving them never touches the disk.
    const read = (file: string) => readFileSync(join(dashboardDir, file), 'utf8');
    this.assets = {
      html: read('index.html'),
      css: read('dashboard.css'),
      scripts: new Map(DASHBOARD_SCRIPTS.map((name) => [name, read(`${name}.js`)])),
    };
  }

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  page(): string {
    return this.assets.html;
  }

  /** The page's ES modules: a fixed list, so no request names a file. */
  @Get(':script.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  script(@Param('script') name: string): string {
    const script = this.assets.scripts.get(name);
    if (script === undefined) throw new NotFoundException(`no script ${name}.js`);
    return script;
  }

  @Get('dashboard.css')
  @Header('content-type', 'text/css; charset=utf-8')
  styles(): string {
    return this.assets.css;
  }

  /** The group's recent rebalances as numbered message sequences, newest first. */
  @Get('api/groups/:group/history')
  history(@Param('group') group: string): GroupHistoryView {
    try {
      return groupHistoryView(
        group,
        this.broker.groups.history(group, this.broker.coordinator.trace),
      );
    } catch (error) {
      if (error instanceof BrokerError && error.reason === ErrorReason.GROUP_ID_NOT_FOUND)
        throw new NotFoundException({ message: error.message, field: 'group' });
      throw error;
    }
  }

  @Get('api/snapshot')
  snapshot(): Promise<DashboardSnapshot> {
    return this.dashboard.snapshot();
  }

  /** One `snapshot` event per second while the page is open. */
  @Sse('api/events')
  events(): Observable<MessageEvent> {
    return this.dashboard.updates.pipe(map((snapshot) => ({ type: 'snapshot', data: snapshot })));
  }

  /**
   * 200 while every partition serves; 503 naming the partitions offline
   * after a disk error (they need a restart), while the rest keep serving.
   */
  @Get('health')
  health(): { status: 'ok' } {
    const failedPartitions: FailedPartition[] = this.broker.failedPartitions();
    if (failedPartitions.length > 0)
      throw new ServiceUnavailableException({
        status: 'degraded',
        message: `${failedPartitions.length} partition(s) offline after a disk error; restart the broker to re-validate them`,
        failedPartitions,
      });
    return { status: 'ok' };
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.metrics.metrics();
  }
}
