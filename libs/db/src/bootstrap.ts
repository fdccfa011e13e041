import { Client } from 'pg';
import { identifier, literal } from './identifiers';

export interface ServiceDatabase {
  /** The service's own schema, e.g. "billing". */
  schema: string;
  /** Its login role, which may use this schema and nothing else. */
  role: string;
  password: string;
}

/**
 * Creates each service's schema and login role and confines the role to its
 * schema: it owns and may use its schema only; PUBLIC loses CREATE on the
 * public schema and CONNECT-level defaults stay. Safe to run on every start
 * (every statement is idempotent) and from several processes at once (an
 * advisory lock serialises them).
 */
export async function bootstrapServiceDatabases(
  adminUrl: string,
  services: ServiceDatabase[],
): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['hospital.bootstrap']);
    await client.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    for (const service of services) {
      const schema = identifier(service.schema, 'schema');
      const role = identifier(service.role, 'role');
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [
        service.role,
      ]);
      if (exists.rowCount === 0)
        await client.query(`CREATE ROLE ${role} LOGIN PASSWORD ${literal(service.password)}`);
      else await client.query(`ALTER ROLE ${role} LOGIN PASSWORD ${literal(service.password)}`);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${role}`);
      await client.query(`ALTER SCHEMA ${schema} OWNER TO ${role}`);
      await client.query(`REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`);
      await client.query(`ALTER ROLE ${role} SET search_path TO ${schema}`);
    }
  } finally {
    await client
      .query('SELECT pg_advisory_unlock(hashtext($1))', ['hospital.bootstrap'])
      .catch(() => undefined);
    await client.end();
  }
}

/** The connection URL of a service's role on the same server and database as `adminUrl`. */
export function serviceUrl(adminUrl: string, service: ServiceDatabase): string {
  const url = new URL(adminUrl);
  url.username = service.role;
  url.password = service.password;
  url.searchParams.set('options', `-c search_path=${service.schema}`);
  return url.toString();
}
