// A child process of the rebalance bench: runs N consumer-group members and
// reports, over IPC, every generation each joins with its assignment, every
// revocation, and every marker record it processes (with the time).
import { BrokerConnection, Consumer } from '@hospital/broker-client';

export type MemberReport =
  | { type: 'ready' }
  | { type: 'joined'; member: string; generationId: number; partitions: number[]; at: number }
  | { type: 'revoked'; member: string; partitions: number[]; at: number }
  | { type: 'marker'; member: string; partition: number; phase: string; at: number }
  | { type: 'stopped'; member: string };

export type MemberCommand =
  { type: 'add'; member: string } | { type: 'leave'; member: string } | { type: 'stop' };

/** A marker record's value: "M:<phase>". */
export const MARKER_PREFIX = 'M:';

const now = () => performance.timeOrigin + performance.now();

function report(message: MemberReport): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const broker = process.env.BENCH_BROKER as string;
  const topic = process.env.BENCH_TOPIC as string;
  const groupId = process.env.BENCH_GROUP as string;
  const assignor = process.env.BENCH_ASSIGNOR as string;
  const members = new Map<string, { consumer: Consumer; connection: BrokerConnection }>();

  const add = async (name: string) => {
    const connection = new BrokerConnection({ broker, clientId: name });
    const consumer = new Consumer(connection, {
      groupId,
      // A partition whose offset is not committed yet must not skip its marker.
      fromBeginning: true,
      maxWaitMs: 200,
      assignors: [assignor],
      sessionTimeoutMs: 30_000,
      heartbeatIntervalMs: 1_000,
    });
    consumer.events.on('consumer.group.join', (event) =>
      report({
        type: 'joined',
        member: name,
        generationId: event.generationId,
        partitions: event.assignment[topic] ?? [],
        at: now(),
      }),
    );
    consumer.events.on('consumer.revoke', (event) =>
      report({
        type: 'revoked',
        member: name,
        partitions: event.partitions
          .filter((entry) => entry.topic === topic)
          .map((entry) => entry.partition),
        at: now(),
      }),
    );
    consumer.subscribe({ topics: [topic] });
    members.set(name, { consumer, connection });
    await consumer.run({
      eachBatch: async ({ batch, resolveOffset }) => {
        for (const message of batch.messages) {
          const value = message.value?.toString() ?? '';
          if (value.startsWith(MARKER_PREFIX))
            report({
              type: 'marker',
              member: name,
              partition: batch.partition,
              phase: value.slice(MARKER_PREFIX.length),
              at: now(),
            });
        }
        const last = batch.messages.at(-1);
        if (last) resolveOffset(last.offset);
      },
    });
  };
  const stop = async (name: string) => {
    const member = members.get(name);
    if (!member) return;
    members.delete(name);
    await member.consumer.stop();
    member.connection.close();
    report({ type: 'stopped', member: name });
  };

  process.on('message', (command: MemberCommand) => {
    if (command.type === 'add') void add(command.member);
    else if (command.type === 'leave') void stop(command.member);
    else void Promise.all([...members.keys()].map(stop)).then(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
  report({ type: 'ready' });
}

void main();
