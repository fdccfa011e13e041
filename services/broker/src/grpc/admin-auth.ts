import { timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { ErrorReason } from '@hospital/proto';
import { BrokerError } from '../errors/broker-error';

/** Admin operations need `authorization: Bearer <admin token>`. */
export function requireAdmin(
  metadata: Metadata | undefined,
  adminToken: string | undefined,
  operation: string,
): void {
  if (!adminToken) {
    throw new BrokerError(
      ErrorReason.CLUSTER_AUTHORIZATION_FAILED,
      `${operation} needs an admin token, and none is configured on this broker (set BROKER_ADMIN_TOKEN)`,
    );
  }
  const [header] = metadata?.get('authorization') ?? [];
  const presented = typeof header === 'string' ? header.replace(/^Bearer\s+/i, '') : '';
  const expected = Buffer.from(adminToken);
  const given = Buffer.from(presented);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new BrokerError(
      ErrorReason.CLUSTER_AUTHORIZATION_FAILED,
      `${operation} needs the admin token in metadata "authorization: Bearer <token>"`,
    );
  }
}
