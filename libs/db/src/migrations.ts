import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { identifier } from './identifiers';

export interface AppliedMigration {
  name: string;
  checksum: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The migrations of a Prisma migrations folder (`<timestamp>_<name>/migration.sql`), in order. */
export function readMigrations(dir: string): { name: string; sql: string; checksum: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: sha256(sql) };
    });
}

/**
 * Applies a Prisma migrations folder without the Prisma CLI: each pending
 * migration runs in its own transaction and is recorded in the schema's
 * `_prisma_migrations` table with Prisma's own columns, so `prisma migrate
 * status` reads the same history. An applied migration whose file changed
 * stops everything (its checksum no longer matches).
 */
export async function applyMigrations(
  url: string,
  schema: string,
  dir: string,
): Promise<MigrationResult> {
  const migrations = readMigrations(dir);
  const quotedSchema = identifier(schema, 'schema');
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`hospital.migrate.${schema}`]);
    await client.query(`SET search_path TO ${quotedSchema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${quotedSchema}."_prisma_migrations" (
      id VARCHAR(36) PRIMARY KEY NOT NULL,
      checksum VARCHAR(64) NOT NULL,
      finished_at TIMESTAMPTZ,
      migration_name VARCHAR(255) NOT NULL,
      logs TEXT,
      rolled_back_at TIMESTAMPTZ,
      started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      applied_steps_count INTEGER NOT NULL DEFAULT 0
    )`);
    const { rows } = await client.query<{ migration_name: string; checksum: string }>(
      `SELECT migration_name, checksum FROM ${quotedSchema}."_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const applied = new Map(rows.map((row) => [row.migration_name, row.checksum]));
    const result: MigrationResult = { applied: [], alreadyApplied: [] };
    for (const migration of migrations) {
      const recorded = applied.get(migration.name);
      if (recorded !== undefined) {
        if (recorded !== migration.checksum) {
          throw new Error(
            `migration ${migration.name} was changed after it was applied to schema ${schema} (checksum ${recorded} != ${migration.checksum})`,
          );
        }
        result.alreadyApplied.push(migration.name);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(
          `INSERT INTO ${quotedSchema}."_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ($1, $2, now(), $3, 1)`,
          [randomUUID(), migration.checksum, migration.name],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(
          `migration ${migration.name} failed on schema ${schema}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      result.applied.push(migration.name);
    }
    return result;
  } finally {
    await client
      .query('SELECT pg_advisory_unlock(hashtext($1))', [`hospital.migrate.${schema}`])
      .catch(() => undefined);
    await client.end();
  }
}
