import { CleanupPolicy, ErrorReason, type TopicConfig } from '@hospital/proto';
import { BrokerError } from '../../errors/broker-error';
import { validateTopicName } from '../../storage/topic-store';
import { answerOf, KafkaErrorCode, KafkaRefusal } from '../protocol/error-codes';
import { ApiKey, NO_THROTTLE, type KafkaApi, type KafkaContext } from './kafka-api';

/** Kafka's num.partitions default, for CreateTopics with -1. */
const DEFAULT_PARTITIONS = 1;

interface TopicResult {
  name: string;
  errorCode: number;
  errorMessage: string | null;
}

/** The integer topic configs Kafka clients set, the least each may be, and the setting each maps onto. */
const INTEGER_CONFIGS: Record<
  string,
  { min: number; field: 'retentionMs' | 'retentionBytes' | 'segmentBytes' }
> = {
  'retention.ms': { min: -1, field: 'retentionMs' },
  'retention.bytes': { min: -1, field: 'retentionBytes' },
  'segment.bytes': { min: 1024, field: 'segmentBytes' },
};

/** The topic configs Kafka clients set that map onto this broker's settings; any other is INVALID_CONFIG. */
function topicConfig(configs: { name: string; value: string | null }[]): TopicConfig {
  const config: TopicConfig = {
    retentionMs: 0,
    retentionBytes: 0,
    segmentBytes: 0,
    cleanupPolicy: 0,
  };
  const refuse = (message: string) => new KafkaRefusal(KafkaErrorCode.INVALID_CONFIG, message);
  for (const { name, value } of configs) {
    const integer = Object.hasOwn(INTEGER_CONFIGS, name) ? INTEGER_CONFIGS[name] : undefined;
    if (integer) {
      const number = Number(value);
      if (value === null || value === '' || !Number.isSafeInteger(number) || number < integer.min)
        throw refuse(`${name} must be an integer >= ${integer.min}, got "${value}"`);
      config[integer.field] = number;
    } else if (name === 'cleanup.policy') {
      if (value !== 'delete' && value !== 'compact')
        throw refuse(`cleanup.policy must be delete or compact, got "${value}"`);
      config.cleanupPolicy =
        value === 'compact'
          ? CleanupPolicy.CLEANUP_POLICY_COMPACT
          : CleanupPolicy.CLEANUP_POLICY_DELETE;
    } else
      throw refuse(
        `config ${name} is not supported here: ${[...Object.keys(INTEGER_CONFIGS), 'cleanup.policy'].join(', ')} are`,
      );
  }
  return config;
}

function result(name: string, work: () => void): TopicResult {
  return { name, ...answerOf(work) };
}

/**
 * CreateTopics v0–3. One broker holds one replica: replication factor 1 (or
 * -1, the default), and manual assignments only onto node 0.
 */
export const createTopicsApi: KafkaApi = {
  key: ApiKey.CreateTopics,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 3,
  handle(input, version, context) {
    const topics = input.array((topic) => ({
      name: topic.string(),
      partitions: topic.int32(),
      replicationFactor: topic.int16(),
      assignments: topic.array((a) => ({
        partition: a.int32(),
        brokers: a.array((b) => b.int32()),
      })),
      configs: topic.array((c) => ({ name: c.string(), value: c.nullableString() })),
    }));
    input.int32(); // timeout: creation is synchronous here
    const validateOnly = version >= 1 ? input.boolean() : false;
    const results = topics.map((topic) =>
      result(topic.name, () => {
        if (topic.replicationFactor !== -1 && topic.replicationFactor !== 1)
          throw new KafkaRefusal(
            KafkaErrorCode.INVALID_REPLICATION_FACTOR,
            `replication factor ${topic.replicationFactor}: this is one broker, so 1 is the most`,
          );
        if (topic.assignments.some((a) => a.brokers.some((node) => node !== 0)))
          throw new KafkaRefusal(
            KafkaErrorCode.INVALID_REPLICA_ASSIGNMENT,
            'the only broker is node 0',
          );
        const partitions =
          topic.assignments.length > 0
            ? topic.assignments.length
            : topic.partitions === -1
              ? DEFAULT_PARTITIONS
              : topic.partitions;
        const config = topicConfig(topic.configs);
        if (validateOnly) {
          validateTopicName(topic.name);
          if (context.broker.store.has(topic.name))
            throw new BrokerError(
              ErrorReason.TOPIC_ALREADY_EXISTS,
              `topic "${topic.name}" already exists`,
            );
          return;
        }
        context.broker.topics.createTopic({ name: topic.name, partitions, config });
      }),
    );
    return (out) => {
      if (version >= 2) out.int32(NO_THROTTLE);
      out.array(results, (w, answer) => {
        w.string(answer.name).int16(answer.errorCode);
        if (version >= 1) w.nullableString(answer.errorMessage);
      });
    };
  },
};

/** DeleteTopics v0–3: an admin operation (SASL/PLAIN with the admin token). */
export const deleteTopicsApi: KafkaApi = {
  key: ApiKey.DeleteTopics,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 3,
  handle(input, version, context) {
    const names = input.array((r) => r.string());
    input.int32(); // timeout
    const results = names.map((name) =>
      result(name, () => {
        requireAdmin(context, `deleting topic ${name}`);
        context.broker.topics.deleteTopic(name);
      }),
    );
    return (out) => {
      if (version >= 1) out.int32(NO_THROTTLE);
      out.array(results, (w, answer) => w.string(answer.name).int16(answer.errorCode));
    };
  },
};

/** CreatePartitions v0–1: grows a topic; its groups rebalance onto the new partitions. */
export const createPartitionsApi: KafkaApi = {
  key: ApiKey.CreatePartitions,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 1,
  handle(input, _version, context) {
    const topics = input.array((topic) => ({
      name: topic.string(),
      count: topic.int32(),
      assignments: topic.nullableArray((a) => a.array((b) => b.int32())),
    }));
    input.int32(); // timeout
    const validateOnly = input.boolean();
    const results = topics.map((topic) =>
      result(topic.name, () => {
        if (topic.assignments?.some((brokers) => brokers.some((node) => node !== 0)))
          throw new KafkaRefusal(
            KafkaErrorCode.INVALID_REPLICA_ASSIGNMENT,
            'the only broker is node 0',
          );
        if (validateOnly) {
          const current = context.broker.store.get(topic.name).partitions.length;
          if (topic.count <= current)
            throw new BrokerError(
              ErrorReason.INVALID_PARTITIONS,
              `topic "${topic.name}" has ${current} partitions; the new total must be larger`,
            );
          return;
        }
        context.broker.topics.createPartitions({ name: topic.name, totalPartitions: topic.count });
      }),
    );
    return (out) => {
      out.int32(NO_THROTTLE);
      out.array(results, (w, answer) =>
        w.string(answer.name).int16(answer.errorCode).nullableString(answer.errorMessage),
      );
    };
  },
};

function requireAdmin(context: KafkaContext, what: string): void {
  if (!context.session.admin)
    throw new KafkaRefusal(
      KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED,
      `${what} is an admin operation: authenticate with SASL/PLAIN, password = the broker's admin token`,
    );
}
