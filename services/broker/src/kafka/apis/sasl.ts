import { timingSafeEqual } from 'node:crypto';
import { KafkaErrorCode } from '../protocol/error-codes';
import { ApiKey, type KafkaApi } from './kafka-api';

const PLAIN = 'PLAIN';

/**
 * SaslHandshake v1 (then SaslAuthenticate, as KafkaJS and librdkafka do when
 * the broker lists it; v0's raw token framing is not offered). Only PLAIN.
 */
export const saslHandshakeApi: KafkaApi = {
  key: ApiKey.SaslHandshake,
  name: 'SaslHandshake',
  minVersion: 1,
  maxVersion: 1,
  handle(input, _version, context) {
    const mechanism = input.string();
    const supported = mechanism === PLAIN;
    if (supported) context.session.saslMechanism = PLAIN;
    return (out) => {
      out.int16(supported ? KafkaErrorCode.NONE : KafkaErrorCode.UNSUPPORTED_SASL_MECHANISM);
      out.array([PLAIN], (w, name) => w.string(name));
    };
  },
};

/**
 * SaslAuthenticate v0–1 with PLAIN: the password must be the broker's admin
 * token (BROKER_ADMIN_TOKEN); the user name is free. Success makes this
 * connection an admin one (DeleteTopics, DeleteGroups); failure answers
 * SASL_AUTHENTICATION_FAILED and closes the connection, as Kafka does.
 * Connections that never authenticate produce, consume and join groups.
 */
export const saslAuthenticateApi: KafkaApi = {
  key: ApiKey.SaslAuthenticate,
  name: 'SaslAuthenticate',
  minVersion: 0,
  maxVersion: 1,
  handle(input, version, context) {
    const token = input.bytes();
    const session = context.session;
    let errorCode: number = KafkaErrorCode.NONE;
    let message: string | null = null;
    if (session.saslMechanism !== PLAIN) {
      errorCode = KafkaErrorCode.ILLEGAL_SASL_STATE;
      message = 'send SaslHandshake with mechanism PLAIN first';
    } else {
      // PLAIN's message: authzid NUL authcid NUL passwd (RFC 4616).
      const parts = token.toString('utf8').split('\u0000');
      const user = parts[1] ?? '';
      const password = parts[2] ?? '';
      const expected = context.broker.config.adminToken;
      if (parts.length !== 3) {
        errorCode = KafkaErrorCode.SASL_AUTHENTICATION_FAILED;
        message = 'a PLAIN message is authzid NUL user NUL password';
      } else if (!expected) {
        errorCode = KafkaErrorCode.SASL_AUTHENTICATION_FAILED;
        message = 'admin operations are disabled: the broker has no BROKER_ADMIN_TOKEN';
      } else if (!sameSecret(password, expected)) {
        errorCode = KafkaErrorCode.SASL_AUTHENTICATION_FAILED;
        message = `authentication failed for user ${user}: the password is not the admin token`;
      } else {
        session.admin = true;
        context.logger.info(
          { clientId: session.clientId, user },
          'kafka client authenticated as admin',
        );
      }
    }
    if (errorCode !== KafkaErrorCode.NONE) {
      session.closeAfterResponse = true;
      context.logger.warn(
        { clientId: session.clientId, host: session.host, reason: message },
        'kafka SASL authentication refused',
      );
    }
    return (out) => {
      out.int16(errorCode).nullableString(message).bytes(Buffer.alloc(0));
      if (version >= 1) out.int64(0); // session lifetime: no re-authentication needed
    };
  },
};

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
