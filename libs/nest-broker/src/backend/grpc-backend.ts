import {
  BrokerConnection,
  Consumer,
  Producer,
  type ConsumerOptions,
  type ProducerOptions,
} from '@hospital/broker-client';
import type { EventConsumer, EventProducer, GrpcConnectionOptions } from './event-backend';

/** Our own Producer over the broker's gRPC API; it owns its connection. */
export function grpcProducer(
  connectionOptions: GrpcConnectionOptions,
  options: ProducerOptions = {},
): EventProducer {
  const connection = new BrokerConnection(connectionOptions);
  const producer = new Producer(connection, options);
  return {
    client: producer,
    send: (record) => producer.send(record),
    async disconnect() {
      try {
        await producer.disconnect();
      } finally {
        connection.close();
      }
    },
  };
}

/** Our own Consumer (group member) over the broker's gRPC API; it owns its connection. */
export function grpcConsumer(
  connectionOptions: GrpcConnectionOptions,
  options: ConsumerOptions,
): EventConsumer {
  const connection = new BrokerConnection(connectionOptions);
  const consumer = new Consumer(connection, options);
  return {
    client: consumer,
    on: (event, listener) => consumer.events.on(event, listener),
    subscribe: (subscription) => consumer.subscribe(subscription),
    run: (run) => consumer.run(run),
    async stop() {
      try {
        await consumer.stop();
      } finally {
        connection.close();
      }
    },
  };
}
