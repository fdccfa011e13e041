import { connect, type Socket } from 'node:net';
import {
  AssignerProtocol,
  Kafka,
  logLevel,
  type PartitionAssigner,
  type Consumer,
  type ISocketFactory,
} from 'kafkajs';

/**
 * Kafka's RangeAssignor for KafkaJS (which ships only round robin), so the
 * scenarios get the same assignments from a Kafka client's leader as from
 * the broker's own clients: members sorted by id, each topic's partitions
 * cut into consecutive ranges, the first members taking one extra.
 */
export const rangeAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'range',
  version: 0,
  protocol: ({ topics }) => ({
    name: 'range',
    metadata: AssignerProtocol.MemberMetadata.encode({
      version: 0,
      topics,
      userData: Buffer.alloc(0),
    }),
  }),
  async assign({ members, topics }) {
    const ids = members.map((member) => member.memberId).sort();
    const assignment = new Map<string, { [topic: string]: number[] }>(ids.map((id) => [id, {}]));
    for (const topic of topics) {
      const partitions = cluster
        .findTopicPartitionMetadata(topic)
        .map((metadata) => metadata.partitionId)
        .sort((a, b) => a - b);
      const each = Math.floor(partitions.length / ids.length);
      const extra = partitions.length % ids.length;
      let next = 0;
      ids.forEach((id, index) => {
        const count = each + (index < extra ? 1 : 0);
        (assignment.get(id) as { [topic: string]: number[] })[topic] = partitions.slice(
          next,
          next + count,
        );
        next += count;
      });
    }
    return ids.map((memberId) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: assignment.get(memberId) as { [topic: string]: number[] },
        userData: Buffer.alloc(0),
      }),
    }));
  },
});

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
    partitionAssigners: [rangeAssigner],
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
