import { BaseRpcContext } from '@nestjs/microservices';
import type { Consumer, IncomingRecord } from '@hospital/broker-client';

type BrokerContextArgs = [
  topic: string,
  partition: number,
  message: IncomingRecord,
  heartbeat: () => Promise<void>,
  consumer: unknown,
];

/** What an @EventPattern handler can learn about the record it handles, one getter per piece. */
export class BrokerContext extends BaseRpcContext<BrokerContextArgs> {
  getTopic(): string {
    return this.args[0];
  }
  getPartition(): number {
    return this.args[1];
  }
  getMessage(): IncomingRecord {
    return this.args[2];
  }
  getOffset(): number {
    return this.args[2].offset;
  }
  getKey(): Buffer | null {
    return this.args[2].key;
  }
  getHeaders(): { [key: string]: Buffer } {
    return this.args[2].headers;
  }
  getTimestamp(): number {
    return this.args[2].timestamp;
  }
  /** Keeps the session alive during a long handler. */
  getHeartbeat(): () => Promise<void> {
    return this.args[3];
  }
  /** The group member: our Consumer over gRPC, a KafkaJS Consumer over the Kafka protocol. */
  getConsumer<T = Consumer>(): T {
    return this.args[4] as T;
  }
}
