import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import {
  BrokerConnection,
  Consumer,
  type ConnectionOptions,
  type ConsumerEvents,
  type ConsumerOptions,
} from '@hospital/broker-client';
import { lastValueFrom } from 'rxjs';
import { BrokerContext } from './broker.context';

export interface BrokerServerOptions {
  connection: ConnectionOptions;
  consumer: ConsumerOptions;
  /** Partitions handled at once (default 1: strict order per partition and across them). */
  partitionsConsumedConcurrently?: number;
}

export type BrokerServerStatus = 'connecting' | 'connected' | 'rebalancing' | 'disconnected';

type BrokerServerEvents = { [K in keyof ConsumerEvents]: (payload: ConsumerEvents[K]) => void };

/**
 * A NestJS transport strategy: every @EventPattern('<topic>') handler becomes
 * a subscription of one consumer-group member. A record is handed over as
 * its raw value (decode it in the handler) with a BrokerContext; its offset
 * counts as processed only once the handler's promise or observable completes,
 * so a crash mid-handler means redelivery, never loss.
 */
export class BrokerServer
  extends Server<BrokerServerEvents, BrokerServerStatus>
  implements CustomTransportStrategy
{
  private connection: BrokerConnection | undefined;
  private consumer: Consumer | undefined;

  constructor(private readonly options: BrokerServerOptions) {
    super();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      this._status$.next('connecting');
      this.connection = new BrokerConnection(this.options.connection);
      const consumer = new Consumer(this.connection, this.options.consumer);
      this.consumer = consumer;
      consumer.events.on('consumer.rebalancing', () => this._status$.next('rebalancing'));
      consumer.events.on('consumer.group.join', () => this._status$.next('connected'));
      const topics = [...this.messageHandlers.keys()];
      if (topics.length === 0)
        throw new Error('BrokerServer: no @EventPattern handlers registered');
      consumer.subscribe({ topics });
      await consumer.run({
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
        eachMessage: async ({ topic, partition, message, heartbeat }) => {
          const handler = this.getHandlerByPattern(topic);
          if (!handler) return;
          const context = new BrokerContext([topic, partition, message, heartbeat, consumer]);
          const result = await handler(message.value, context);
          await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
        },
      });
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /** Graceful: finishes the record in hand, commits, leaves the group. */
  async close(): Promise<void> {
    await this.consumer?.stop();
    this.connection?.close();
    this._status$.next('disconnected');
  }

  on<K extends keyof BrokerServerEvents>(event: K, callback: BrokerServerEvents[K]): () => void {
    if (!this.consumer) throw new Error('BrokerServer.on(): the server is not listening yet');
    return this.consumer.events.on(event, callback as (payload: ConsumerEvents[K]) => void);
  }

  unwrap<T>(): T {
    if (!this.consumer) throw new Error('BrokerServer.unwrap(): the server is not listening yet');
    return this.consumer as T;
  }
}
