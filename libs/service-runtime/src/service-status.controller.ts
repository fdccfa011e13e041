import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ConsumerMetrics } from './consumer-metrics';
import { DATABASE } from './tokens';

/** The part of a Prisma client /health needs. */
interface Pingable {
  $queryRawUnsafe(query: string): Promise<unknown>;
}

/** /health (the database answers) and /metrics (Prometheus text) for every consumer service. */
@Controller()
export class ServiceStatusController {
  constructor(
    @Inject(DATABASE) private readonly database: Pingable,
    private readonly metrics: ConsumerMetrics,
  ) {}

  @Get('health')
  async health(): Promise<{ status: string }> {
    await this.database.$queryRawUnsafe('SELECT 1');
    return { status: 'ok' };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
