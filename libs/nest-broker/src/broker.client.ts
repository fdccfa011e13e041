import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import {
  BrokerConnection,
  Producer,
  type ConnectionOptions,
  type ProducerMessage,
  type ProducerOptions,
  type RecordMetadata,
} from '@hospital/broker-client';

export interface BrokerClientOptions {
  connection: ConnectionOptions;
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
  private connection: BrokerConnection | undefined;
  private producer: Producer | undefined;

  constructor(private readonly options: BrokerClientOptions) {
    super();
  }

  async connect(): Promise<Producer> {
    if (!this.producer) {
      this.connection = new BrokerConnection(this.options.connection);
      this.producer = new Producer(this.connection, this.options.producer);
      this._status$.next('connected');
    }
    return this.producer;
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
    this.connection?.close();
    this.producer = undefined;
    this.connection = undefined;
    this._status$.next('disconnected');
  }

  unwrap<T>(): T {
    if (!this.producer) throw new Error('BrokerClientProxy.unwrap(): call connect() first');
    return this.producer as T;
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
