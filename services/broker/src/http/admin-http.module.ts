import { Module, type DynamicModule } from '@nestjs/common';
import { Broker } from '../broker';
import { ActionsController } from './actions/actions.controller';
import { AdminTokenGuard } from './admin-token.guard';
import type { RequestBudgetView } from '../kafka/request-budget';
import { brokerMetrics } from './broker-metrics';
import { BROKER_METRICS, DASHBOARD_DIR, DashboardController } from './dashboard.controller';
import { DashboardService } from './dashboard.service';
import { SupervisorRelayModule } from './controls/supervisor-relay.module';

/** Nest wiring of the broker's admin HTTP port: dashboard, live events, controls, health, metrics. */
@Module({})
export class AdminHttpModule {
  static forBroker(
    broker: Broker,
    dashboardDir: string,
    kafkaRequests?: RequestBudgetView,
  ): DynamicModule {
    return {
      module: AdminHttpModule,
      imports: [SupervisorRelayModule.register(broker)],
      controllers: [DashboardController, ActionsController],
      providers: [
        { provide: Broker, useValue: broker },
        { provide: DASHBOARD_DIR, useValue: dashboardDir },
        { provide: BROKER_METRICS, useFactory: () => brokerMetrics(broker, kafkaRequests) },
        DashboardService,
        AdminTokenGuard,
      ],
    };
  }
}
