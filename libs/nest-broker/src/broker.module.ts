import {
  Module,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OptionalFactoryDependency,
} from '@nestjs/common';
import { BrokerClientProxy, type BrokerClientOptions } from './broker.client';

/** Default injection token of the BrokerClientProxy. */
export const BROKER_CLIENT = 'BROKER_CLIENT';

export interface BrokerModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  name?: string;
  useFactory: (...args: never[]) => BrokerClientOptions | Promise<BrokerClientOptions>;
  inject?: (InjectionToken | OptionalFactoryDependency)[];
}

/** Registers a BrokerClientProxy for emitting events: `@Inject(BROKER_CLIENT) client: BrokerClientProxy`. */
@Module({})
export class BrokerModule {
  static forRoot(options: BrokerClientOptions & { name?: string }): DynamicModule {
    const provide = options.name ?? BROKER_CLIENT;
    return {
      module: BrokerModule,
      providers: [{ provide, useFactory: () => new BrokerClientProxy(options) }],
      exports: [provide],
      global: true,
    };
  }

  static forRootAsync(options: BrokerModuleAsyncOptions): DynamicModule {
    const provide = options.name ?? BROKER_CLIENT;
    return {
      module: BrokerModule,
      imports: options.imports ?? [],
      providers: [
        {
          provide,
          useFactory: async (...args: never[]) =>
            new BrokerClientProxy(await options.useFactory(...args)),
          inject: options.inject ?? [],
        },
      ],
      exports: [provide],
      global: true,
    };
  }
}
