import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { ConsumerEvents, ConsumerOptions } from '@hospital/broker-client';
import { lastValueFrom } from 'rxjs';
import { createEventConsumer, type BackendConnectionOptions, type EventConsumer } from './backend';
import { BrokerBatchContext } from './broker-batch.context';
import { BrokerContext } from './broker.context';

export interface BrokerServerOptions {
  /** Our broker over gRPC (the default), or any Kafka broker over the Kafka protocol ({ protocol: 'kafka', brokers }). */
  connection: BackendConnectionOptions;
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
 * `@EventPattern(topic, { batch: true })` hands over each fetched batch of one
 * partition instead (IncomingRecord[] with a BrokerBatchContext), for handlers
 * that write a batch in one transaction.
 */
export class BrokerServer
  extends Server<BrokerServerEvents, BrokerServerStatus>
  implements CustomTransportStrategy
{
  private consumer: EventConsumer | undefined;

  constructor(private readonly options: BrokerServerOptions) {
    super();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      this._status$.next('connecting');
      const consumer = createEventConsumer(this.options.connection, this.options.consumer);
      this.consumer = consumer;
      consumer.on('consumer.rebalancing', () => this._status$.next('rebalancing'));
      consumer.on('consumer.group.join', () => this._status$.next('connected'));
      const topics = [...this.messageHandlers.keys()];
      if (topics.length === 0)
        throw new Error('BrokerServer: no @EventPattern handlers registered');
      consumer.subscribe({ topics });
      await consumer.run({
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning }) => {
          const handler = this.getHandlerByPattern(batch.topic);
          if (!handler) return;
          if (handler.extras?.batch === true) {
            const context = new BrokerBatchContext([
              batch.topic,
              batch.partition,
              batch.messages,
              batch.highWatermark,
              heartbeat,
              isRunning,
              consumer.client,
            ]);
            await this.complete(handler(batch.messages, context));
            const last = batch.messages.at(-1);
            if (last) resolveOffset(last.offset);
            return;
          }
          for (const message of batch.messages) {
            if (!isRunning()) return;
            const context = new BrokerContext([
              batch.topic,
              batch.partition,
              message,
              heartbeat,
              consumer.client,
            ]);
            await this.complete(handler(message.value, context));
            resolveOffset(message.offset);
          }
        },
      });
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /** Waits for a handler's promise or observable; its record (or batch) is processed only after this. */
  private async complete(result: unknown): Promise<void> {
    await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
  }

  /** Graceful: finishes the record (or batch) in hand, commits, leaves the group. */
  async close(): Promise<void> {
    await this.consumer?.stop();
    this._status$.next('disconnected');
  }

  on<K extends keyof BrokerServerEvents>(event: K, callback: BrokerServerEvents[K]): () => void {
    if (!this.consumer) throw new Error('BrokerServer.on(): the server is not listening yet');
    return this.consumer.on(event, callback as (payload: ConsumerEvents[K]) => void);
  }

  unwrap<T>(): T {
    if (!this.consumer) throw new Error('BrokerServer.unwrap(): the server is not listening yet');
    return this.consumer.client as T;
  }
}
