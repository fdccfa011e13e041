import { validateTopicName, type Topic } from '../../storage/topic-store';
import { kafkaCodeOf, KafkaErrorCode } from '../protocol/error-codes';
import { ApiKey, NO_THROTTLE, type KafkaApi } from './kafka-api';

/** The one broker's node id, everywhere it is named. */
export const NODE_ID = 0;
export const CLUSTER_ID = 'hospital-broker';

interface TopicAnswer {
  errorCode: number;
  name: string;
  internal: boolean;
  partitions: number;
}

/** Kafka's "authorized operations not asked for" (INT32_MIN). */
const OPERATIONS_NOT_ASKED = -(2 ** 31);

/**
 * Metadata v0–9: one broker, leader and only replica of every partition, whose
 * leader epoch (v7+) stays 0 as no other broker ever leads it.
 * Topics are not created by asking for them (auto-creation is off, as the
 * gRPC API never creates one either): create them with CreateTopics.
 */
export const metadataApi: KafkaApi = {
  key: ApiKey.Metadata,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 9,
  handle(input, version, context) {
    const requested =
      version >= 1 ? input.nullableStructs((r) => r.string()) : input.structs((r) => r.string());
    if (version >= 4) input.boolean(); // allow auto topic creation: not done here
    if (version >= 8) {
      input.boolean(); // include cluster authorized operations: ACLs are not kept
      input.boolean(); // include topic authorized operations
    }
    const all = requested === null || (version === 0 && requested.length === 0);
    const store = context.broker.store;
    input.skipTags(); // the request's own tagged fields (flexible versions)
    const answers: TopicAnswer[] = all
      ? store.list().map(describe)
      : (requested ?? []).map((name) => {
          try {
            validateTopicName(name);
            return describe(store.get(name));
          } catch (error) {
            return { errorCode: kafkaCodeOf(error), name, internal: false, partitions: 0 };
          }
        });
    const { host, port } = context.advertised;
    return (out) => {
      if (version >= 3) out.int32(NO_THROTTLE);
      out.structs([NODE_ID], (w, node) => {
        w.int32(node).string(host).int32(port);
        if (version >= 1) w.nullableString(null); // rack
      });
      if (version >= 2) out.nullableString(CLUSTER_ID);
      if (version >= 1) out.int32(NODE_ID);
      out.structs(answers, (w, topic) => {
        w.int16(topic.errorCode).string(topic.name);
        if (version >= 1) w.boolean(topic.internal);
        w.structs(
          Array.from({ length: topic.partitions }, (_, index) => index),
          (p, index) => {
            p.int16(KafkaErrorCode.NONE).int32(index).int32(NODE_ID);
            if (version >= 7) p.int32(0); // leader epoch
            p.array([NODE_ID], (r, node) => r.int32(node)); // replicas
            p.array([NODE_ID], (r, node) => r.int32(node)); // in-sync replicas
            if (version >= 5) p.array([], () => undefined); // offline replicas
          },
        );
        if (version >= 8) w.int32(OPERATIONS_NOT_ASKED);
      });
      if (version >= 8) out.int32(OPERATIONS_NOT_ASKED);
    };
  },
};

function describe(topic: Topic): TopicAnswer {
  return {
    errorCode: KafkaErrorCode.NONE,
    name: topic.name,
    internal: topic.internal,
    partitions: topic.partitions.length,
  };
}
