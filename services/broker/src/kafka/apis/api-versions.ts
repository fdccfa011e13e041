import { KafkaErrorCode } from '../protocol/error-codes';
import { ApiKey, NO_THROTTLE, type KafkaApi } from './kafka-api';

/**
 * ApiVersions v0–3, the first request of every Kafka client. v3 is flexible
 * and names the client's software. A newer request is answered as real
 * brokers do: UNSUPPORTED_VERSION in a v0 body that still lists the versions,
 * so the client retries with one it finds there.
 */
export function apiVersionsApi(served: () => readonly KafkaApi[]): KafkaApi {
  return {
    key: ApiKey.ApiVersions,
    name: 'ApiVersions',
    minVersion: 0,
    maxVersion: 3,
    flexibleFrom: 3,
    handle(input, version) {
      if (version === 3) {
        input.string(); // client software name
        input.string(); // client software version
      }
      input.skipTags(); // the request's own tagged fields (flexible versions)
      const apis = [...served()].sort((a, b) => a.key - b.key);
      const supported = version <= 3;
      return (out) => {
        out.int16(supported ? KafkaErrorCode.NONE : KafkaErrorCode.UNSUPPORTED_VERSION);
        out.structs(apis, (w, api) => w.int16(api.key).int16(api.minVersion).int16(api.maxVersion));
        if (supported && version >= 1) out.int32(NO_THROTTLE);
      };
    },
  };
}
