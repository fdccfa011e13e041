import { KafkaErrorCode } from '../protocol/error-codes';
import { ApiKey, NO_THROTTLE, type KafkaApi } from './kafka-api';
import { NODE_ID } from './metadata';

const GROUP_KEY = 0;

/** FindCoordinator v0–2: this broker coordinates every group; transactions have no coordinator here. */
export const findCoordinatorApi: KafkaApi = {
  key: ApiKey.FindCoordinator,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 2,
  handle(input, version, context) {
    const key = input.string();
    const keyType = version >= 1 ? input.int8() : GROUP_KEY;
    const refused =
      keyType !== GROUP_KEY
        ? 'transactions are not supported: there is no transaction coordinator'
        : key === ''
          ? 'name the group'
          : undefined;
    const { host, port } = context.advertised;
    return (out) => {
      if (version >= 1) out.int32(NO_THROTTLE);
      if (refused) {
        out.int16(
          keyType !== GROUP_KEY
            ? KafkaErrorCode.COORDINATOR_NOT_AVAILABLE
            : KafkaErrorCode.INVALID_REQUEST,
        );
        if (version >= 1) out.nullableString(refused);
        out.int32(-1).string('').int32(-1);
        return;
      }
      out.int16(KafkaErrorCode.NONE);
      if (version >= 1) out.nullableString(null);
      out.int32(NODE_ID).string(host).int32(port);
    };
  },
};
