import { Module, type DynamicModule } from '@nestjs/common';
import { Broker } from '../../broker';
import { AdminTokenGuard } from '../admin-token.guard';
import { ControlController } from './control.controller';
import { NoReplicaControls, ReplicaControls } from './replica-controls';
import { SupervisorClient } from './supervisor-client';

/**
 * The dashboard's controls, as an optional module: with a supervisor URL it
 * relays to it; without one the relay is off and the buttons say why.
 */
@Module({})
export class SupervisorRelayModule {
  static register(broker: Broker): DynamicModule {
    const { controlUrl, adminToken } = broker.config;
    return {
      module: SupervisorRelayModule,
      controllers: [ControlController],
      providers: [
        {
          provide: ReplicaControls,
          useValue: controlUrl
            ? new SupervisorClient(controlUrl, adminToken)
            : new NoReplicaControls(),
        },
        // The buttons' guard reads the admin token from the broker's config.
        { provide: Broker, useValue: broker },
        AdminTokenGuard,
      ],
      exports: [ReplicaControls],
    };
  }
}
