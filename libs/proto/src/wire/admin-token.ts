import { timingSafeEqual } from 'node:crypto';

/** True when an `authorization` header value carries the admin token ("Bearer <token>"), compared in constant time. */
export function presentsAdminToken(header: string | undefined, adminToken: string): boolean {
  const presented = Buffer.from((header ?? '').replace(/^Bearer\s+/i, ''));
  const expected = Buffer.from(adminToken);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
