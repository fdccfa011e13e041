import { connect, type Socket } from 'node:net';
import { RangeAssignor } from '@hospital/broker-client';
import { kafkajsAssigner } from '@hospital/nest-broker';
import { Kafka, logLevel, type Consumer, type ISocketFactory } from 'kafkajs';

export interface KafkaJsMember {
  consumer: Consumer;
  /** Drops every connection at once and refuses new ones: a process that died, with no LeaveGroup. */
  crash(): void;
  /** Lets it connect again, so its client can be shut down cleanly at the end. */
  revive(): void;
}

/** A KafkaJS group member whose sockets the scenario can cut, as a SIGKILL would. */
export function kafkaJsMember(options: {
  brokers: string;
  clientId: string;
  groupId: string;
  sessionTimeoutMs: number;
}): KafkaJsMember {
  const sockets = new Set<Socket>();
  let crashed = false;
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    // After the crash nothing answers: connections go nowhere (port 9, discard, closed on loopback).
    const socket = connect(
      { host: crashed ? '127.0.0.1' : host, port: crashed ? 9 : port },
      onConnect,
    );
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    return socket;
  };
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: [options.brokers],
    logLevel: logLevel.NOTHING,
    socketFactory,
    // After a crash nothing is retried or restarted: the dead client stops for good.
    retry: { retries: 5, initialRetryTime: 100, restartOnFailure: async () => !crashed },
  });
  const consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: 300,
    // KafkaJS heartbeats between fetches: a long poll well inside the session keeps it alive.
    maxWaitTimeInMs: 200,
    // Kafka's range assignor (KafkaJS ships only round robin): the same code our own leader runs.
    partitionAssigners: [kafkajsAssigner(new RangeAssignor())],
  });
  return {
    consumer,
    crash() {
      crashed = true;
      // With an error, as a reset connection looks: KafkaJS fails its requests in flight at once.
      for (const socket of sockets) socket.destroy(new Error('the member process died'));
    },
    revive() {
      crashed = false;
    },
  };
}
