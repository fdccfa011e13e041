import { resolveAssignors, type Assignor } from '@hospital/broker-client';
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/**
 * The assignors a KafkaJS member can use. KafkaJS rebalances eagerly only and
 * sends version-0 subscriptions (no owned partitions), so the cooperative and
 * sticky assignors, which need both, are not offered.
 */
export const KAFKAJS_ASSIGNORS = ['range', 'roundrobin'];

/**
 * Why these consumer settings cannot run over KafkaJS, naming the variable
 * the services set them with; undefined when they can. KafkaJS rebalances
 * eagerly, without owned partitions, and has no static membership.
 */
export function kafkaJsRefusal(options: {
  assignors?: readonly (string | Assignor)[];
  groupInstanceId?: string;
  commitMode?: string;
}): string | undefined {
  const eagerOnly = (options.assignors ?? [])
    .map((entry) => (typeof entry === 'string' ? entry : entry.name))
    .filter((name) => !KAFKAJS_ASSIGNORS.includes(name));
  if (eagerOnly.length > 0)
    return `GROUP_ASSIGNORS "${eagerOnly.join(',')}" cannot run with BROKER_PROTOCOL=kafka (KafkaJS rebalances eagerly, without owned partitions); choose from ${KAFKAJS_ASSIGNORS.join(', ')}`;
  if (options.groupInstanceId)
    return 'GROUP_INSTANCE_ID needs BROKER_PROTOCOL=grpc: KafkaJS does not send group.instance.id (static membership)';
  const mode = options.commitMode ?? 'auto';
  if (mode !== 'auto' && mode !== 'sync')
    return `commitMode "${mode}" needs BROKER_PROTOCOL=grpc; over KafkaJS use "auto" or "sync"`;
  return undefined;
}

/**
 * One of our assignors as a KafkaJS PartitionAssigner: the leader decodes
 * every member's subscription, asks the assignor (the same pure code our own
 * consumer runs) and encodes its answer in Kafka's consumer-protocol format.
 */
export function kafkajsAssigner(assignor: Assignor): PartitionAssigner {
  if (!KAFKAJS_ASSIGNORS.includes(assignor.name))
    throw new Error(
      `the ${assignor.name} assignor cannot run over KafkaJS; use one of ${KAFKAJS_ASSIGNORS.join(', ')}`,
    );
  return ({ cluster }) => ({
    name: assignor.name,
    version: 0,
    protocol: ({ topics }) => ({
      name: assignor.name,
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 0,
        topics,
        userData: Buffer.alloc(0),
      }),
    }),
    async assign({ members, topics }) {
      const subscriptions = members.map(({ memberId, memberMetadata }) => ({
        memberId,
        topics: AssignerProtocol.MemberMetadata.decode(memberMetadata)?.topics ?? [],
        ownedPartitions: [],
        generationId: -1,
      }));
      const partitionCounts = new Map(
        topics.map((topic) => [topic, cluster.findTopicPartitionMetadata(topic).length]),
      );
      const assignment = assignor.assign(subscriptions, partitionCounts);
      return members.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: Object.fromEntries(
            (assignment.get(memberId) ?? []).map(({ topic, partitions }) => [topic, partitions]),
          ),
          userData: Buffer.alloc(0),
        }),
      }));
    },
  });
}

/** Assignors named in order of preference, as KafkaJS assigners; fails naming what cannot run. */
export const kafkajsAssigners = (names: readonly (string | Assignor)[]): PartitionAssigner[] =>
  resolveAssignors(names).map(kafkajsAssigner);
