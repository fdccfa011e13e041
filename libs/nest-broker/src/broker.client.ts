import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { ProducerMessage, ProducerOptions, RecordMetadata } from '@hospital/broker-client';
import { createEventProducer, type BackendConnectionOptions, type EventProducer } from './backend';

export interface BrokerClientOptions {
  /** Our broker over gRPC (the default), or any Kafka broker over the Kafka protocol ({ protocol: 'kafka', brokers }). */
  connection: BackendConnectionOptions;
  producer?: ProducerOptions;
}

/** What `emit('<topic>', …)` accepts: a record, or a bare value (no key). */
export type BrokerEvent = ProducerMessage | Buffer | string;

/**
 * A NestJS ClientProxy that publishes events: `client.emit('patient.checkout',
 * { key, value, headers })` sends one record and completes once the broker has
 * acknowledged it. Request-response (send) is not a broker pattern.
 */
export class BrokerClientProxy extends ClientProxy<
  Record<never, never>,
  'connected' | 'disconnected'
> {
  private producer: EventProducer | undefined;

  constructor(private readonly options: BrokerClientOptions) {
    super();
  }

  async connect(): Promise<EventProducer> {
    if (!this.producer) {
      this.producer = createEventProducer(this.options.connection, this.options.producer);
      this._status$.next('connected');
    }
    return this.producer;
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect();
    this._status$.next('disconnected');
  }

  unwrap<T>(): T {
    if (!this.producer) throw new Error('BrokerClientProxy.unwrap(): call connect() first');
    return this.producer.client as T;
  }

  /** Sends several records to one topic in one call. */
  async sendRecords(topic: string, messages: ProducerMessage[]): Promise<RecordMetadata[]> {
    return (await this.connect()).send({ topic, messages });
  }

  protected async dispatchEvent<T = RecordMetadata[]>(packet: ReadPacket<BrokerEvent>): Promise<T> {
    const topic = this.normalizePattern(packet.pattern);
    const data = packet.data;
    const message: ProducerMessage =
      typeof data === 'string' || Buffer.isBuffer(data) ? { value: data } : data;
    return (await this.sendRecords(topic, [message])) as T;
  }

  protected publish(_packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({
      err: new Error(
        'BrokerClientProxy supports emit() only: a broker carries events, not requests',
      ),
      isDisposed: true,
    });
    return () => {};
  }
}
