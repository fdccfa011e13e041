import { Module, type DynamicModule } from '@nestjs/common';
import { BrokerModule, brokerConnection } from '@hospital/nest-broker';
import type { Logger } from 'pino';
import { CheckoutController } from './checkout.controller';
import { CheckoutPublisher } from './checkout.publisher';
import type { CheckoutConfig } from './config';
import { CheckoutMetrics } from './metrics';
import { SimulatorRunner } from './simulator.runner';
import { CHECKOUT_CONFIG, LOGGER } from './tokens';

@Module({})
export class CheckoutModule {
  static forConfig(config: CheckoutConfig, logger: Logger): DynamicModule {
    return {
      module: CheckoutModule,
      imports: [
        BrokerModule.forRoot({
          connection: brokerConnection(config, 'checkout', logger),
          producer: {
            bufferBytes: config.producerBufferBytes,
            maxBlockMs: config.producerMaxBlockMs,
          },
        }),
      ],
      controllers: [CheckoutController],
      providers: [
        { provide: CHECKOUT_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        CheckoutMetrics,
        CheckoutPublisher,
        SimulatorRunner,
      ],
    };
  }
}
