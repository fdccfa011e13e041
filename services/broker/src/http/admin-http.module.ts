import { Module, type DynamicModule } from '@nestjs/common';
import { Broker } from '../broker';
import { AdminTokenGuard } from './admin-token.guard';
import { brokerMetrics } from './broker-metrics';
import { ControlController } from './control.controller';
import { BROKER_METRICS, DASHBOARD_DIR, DashboardController } from './dashboard.controller';
import { DashboardService } from './dashboard.service';
import { SupervisorClient } from './supervisor-client';

/** Nest wiring of the broker's admin HTTP port: dashboard, live events, controls, health, metrics. */
@Module({})
export class AdminHttpModule {
  static forBroker(broker: Broker, dashboardDir: string): DynamicModule {
    return {
      module: AdminHttpModule,
      controllers: [DashboardController, ControlController],
      providers: [
        { provide: Broker, useValue: broker },
        { provide: DASHBOARD_DIR, useValue: dashboardDir },
        { provide: BROKER_METRICS, useFactory: () => brokerMetrics(broker) },
        {
          provide: SupervisorClient,
          useFactory: () =>
            new SupervisorClient(broker.config.controlUrl, broker.config.adminToken),
        },
        DashboardService,
        AdminTokenGuard,
      ],
    };
  }
}
