import type { Metadata } from '@grpc/grpc-js';
import { ErrorReason, presentsAdminToken } from '@hospital/proto';
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
  if (!presentsAdminToken(typeof header === 'string' ? header : undefined, adminToken)) {
    throw new BrokerError(
      ErrorReason.CLUSTER_AUTHORIZATION_FAILED,
      `${operation} needs the admin token in metadata "authorization: Bearer <token>"`,
    );
  }
}
