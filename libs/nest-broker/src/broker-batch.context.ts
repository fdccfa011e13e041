import { BaseRpcContext } from '@nestjs/microservices';
import type { Consumer, IncomingRecord } from '@hospital/broker-client';

type BrokerBatchContextArgs = [
  topic: string,
  partition: number,
  records: IncomingRecord[],
  highWatermark: number,
  heartbeat: () => Promise<void>,
  isRunning: () => boolean,
  consumer: unknown,
];

/**
 * The context of an `@EventPattern(topic, { batch: true })` handler: the
 * records of one partition fetched together, in offset order. The whole batch
 * counts as processed when the handler completes.
 */
export class BrokerBatchContext extends BaseRpcContext<BrokerBatchContextArgs> {
  getTopic(): string {
    return this.args[0];
  }
  getPartition(): number {
    return this.args[1];
  }
  getRecords(): IncomingRecord[] {
    return this.args[2];
  }
  getFirstOffset(): number {
    return this.args[2][0]?.offset ?? -1;
  }
  getLastOffset(): number {
    return this.args[2].at(-1)?.offset ?? -1;
  }
  /** The partition's log end when the batch was fetched (lag = highWatermark - last offset - 1). */
  getHighWatermark(): number {
    return this.args[3];
  }
  getHeartbeat(): () => Promise<void> {
    return this.args[4];
  }
  /** False once the partition was revoked or the consumer is stopping: stop early, nothing is committed for the rest. */
  isRunning(): boolean {
    return this.args[5]();
  }
  /** The group member: our Consumer over gRPC, a KafkaJS Consumer over the Kafka protocol. */
  getConsumer<T = Consumer>(): T {
    return this.args[6] as T;
  }
}
