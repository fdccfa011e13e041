import { Module, type DynamicModule } from '@nestjs/common';
import { Broker } from '../broker';
import { BrokerController } from './broker.controller';
import { GroupController } from './group.controller';
import { DataStreams } from './data-streams';

/** Nest wiring: one Broker instance shared by the gRPC controllers. */
@Module({})
export class BrokerModule {
  static forBroker(broker: Broker, streams: DataStreams): DynamicModule {
    return {
      module: BrokerModule,
      controllers: [BrokerController, GroupController],
      providers: [
        { provide: Broker, useValue: broker },
        { provide: DataStreams, useValue: streams },
      ],
    };
  }
}
