import { KafkaErrorCode } from '../protocol/error-codes';
import type { KafkaWriter } from '../protocol/kafka-writer';
import { ApiKey, NO_THROTTLE, type KafkaApi } from './kafka-api';
import { NODE_ID } from './metadata';

const GROUP_KEY = 0;

interface Coordinator {
  key: string;
  errorCode: number;
  message: string | null;
}

/** This broker coordinates every group; transactions have no coordinator here. */
function coordinatorFor(key: string, keyType: number): Coordinator {
  if (keyType !== GROUP_KEY)
    return {
      key,
      errorCode: KafkaErrorCode.COORDINATOR_NOT_AVAILABLE,
      message: 'transactions are not supported: there is no transaction coordinator',
    };
  if (key === '')
    return { key, errorCode: KafkaErrorCode.INVALID_REQUEST, message: 'name the group' };
  return { key, errorCode: KafkaErrorCode.NONE, message: null };
}

/**
 * FindCoordinator v0–4. From v4 one request asks for several groups at once
 * (KIP-699) and each is answered in its own entry.
 */
export const findCoordinatorApi: KafkaApi = {
  key: ApiKey.FindCoordinator,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 3,
  handle(input, version, context) {
    const single = version < 4 ? input.string() : '';
    const keyType = version >= 1 ? input.int8() : GROUP_KEY;
    const answers =
      version >= 4
        ? input.array((r) => r.string()).map((key) => coordinatorFor(key, keyType))
        : [coordinatorFor(single, keyType)];
    input.skipTags(); // the request's own tagged fields (flexible versions)
    const { host, port } = context.advertised;
    // The node, or Kafka's "none" (-1, '', -1) for a key this broker does not coordinate.
    const writeNode = (out: KafkaWriter, answer: Coordinator) =>
      answer.errorCode === KafkaErrorCode.NONE
        ? out.int32(NODE_ID).string(host).int32(port)
        : out.int32(-1).string('').int32(-1);
    return (out) => {
      if (version >= 1) out.int32(NO_THROTTLE);
      if (version >= 4) {
        out.structs(answers, (w, answer) => {
          writeNode(w.string(answer.key), answer);
          w.int16(answer.errorCode).nullableString(answer.message);
        });
        return;
      }
      const [answer] = answers;
      out.int16(answer.errorCode);
      if (version >= 1) out.nullableString(answer.message);
      writeNode(out, answer);
    };
  },
};
