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

/**
 * Metadata v0–6: one broker, leader and only replica of every partition.
 * Topics are not created by asking for them (auto-creation is off, as the
 * gRPC API never creates one either): create them with CreateTopics.
 */
export const metadataApi: KafkaApi = {
  key: ApiKey.Metadata,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 6,
  handle(input, version, context) {
    const requested =
      version >= 1 ? input.nullableArray((r) => r.string()) : input.array((r) => r.string());
    if (version >= 4) input.boolean(); // allow auto topic creation: not done here
    const all = requested === null || (version === 0 && requested.length === 0);
    const store = context.broker.store;
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
      out.array([NODE_ID], (w, node) => {
        w.int32(node).string(host).int32(port);
        if (version >= 1) w.nullableString(null); // rack
      });
      if (version >= 2) out.nullableString(CLUSTER_ID);
      if (version >= 1) out.int32(NODE_ID);
      out.array(answers, (w, topic) => {
        w.int16(topic.errorCode).string(topic.name);
        if (version >= 1) w.boolean(topic.internal);
        w.array(
          Array.from({ length: topic.partitions }, (_, index) => index),
          (p, index) => {
            p.int16(KafkaErrorCode.NONE).int32(index).int32(NODE_ID);
            p.array([NODE_ID], (r, node) => r.int32(node)); // replicas
            p.array([NODE_ID], (r, node) => r.int32(node)); // in-sync replicas
            if (version >= 5) p.array([], () => undefined); // offline replicas
          },
        );
      });
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
