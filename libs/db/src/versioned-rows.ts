import { identifier } from './identifiers';

/**
 * The raw-SQL surface the writers need. A Prisma client has it; so can a
 * thin wrapper around `pg` in tests.
 */
export interface SqlClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

/** A column's value as it travels in the JSON parameter (bigint as text keeps its precision). */
export type SqlValue = string | number | boolean | Date | bigint | null;
export type SqlRow = { [column: string]: SqlValue };

export interface TableSpec {
  schema: string;
  table: string;
  /** Every column written, with its Postgres type (used to read the JSON parameter). */
  columns: { [column: string]: string };
}

export interface VersionedTableSpec extends TableSpec {
  /** The natural key (a single column). */
  key: string;
  /** A row is replaced only by a row with a higher version. */
  version: string;
  /** Set to now() whenever the row is replaced; left to its default on insert. */
  touched?: string;
}

export interface ChildTableSpec extends TableSpec {
  /** The column that points at the parent's key. */
  parentKey: string;
  /** The child's primary key (it includes parentKey). */
  key: string[];
}

/** Where a consumer resumes a partition: stored in the same transaction as the rows it wrote. */
export interface ConsumedPosition {
  topic: string;
  partition: number;
  nextOffset: number;
}

/** How one event becomes rows: a parent keyed by the event's natural key and, optionally, its children. */
export interface VersionedRowsSpec<Event> {
  /** The schema holding the tables and `consumed_offset` (topic, partition, next_offset, updated_at). */
  schema: string;
  parent: VersionedTableSpec;
  children?: ChildTableSpec;
  key(event: Event): string;
  version(event: Event): number;
  rows(event: Event): { parent: SqlRow; children?: SqlRow[] };
}

const qualified = (spec: TableSpec) =>
  `${identifier(spec.schema, 'schema')}.${identifier(spec.table, 'table')}`;
const column = (name: string) => identifier(name, 'column');

/** `SELECT * FROM jsonb_to_recordset($n::jsonb) AS alias(col type, …)`: a whole batch as one parameter. */
function recordset(spec: TableSpec, parameter: number, alias: string): string {
  const definitions = Object.entries(spec.columns).map(([name, type]) => `${column(name)} ${type}`);
  return `SELECT * FROM jsonb_to_recordset($${parameter}::jsonb) AS ${alias}(${definitions.join(', ')})`;
}

function toJson(rows: SqlRow[]): string {
  return JSON.stringify(rows, (_key, value: unknown) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
}

/**
 * Keeps, per key, the item with the highest version (the first one on a
 * tie): one statement cannot write the same row twice, and the newest version
 * is the one that must win anyway.
 */
export function newestPerKey<T>(
  items: readonly T[],
  key: (item: T) => string,
  version: (item: T) => number,
): T[] {
  const newest = new Map<string, T>();
  for (const item of items) {
    const current = newest.get(key(item));
    if (current === undefined || version(item) > version(current)) newest.set(key(item), item);
  }
  return [...newest.values()];
}

/**
 * The one statement that writes a batch ($1 parents and, with children, $2
 * children as JSON; then topic, partition and next offset). A single statement is atomic on its own, so rows and
 * offset commit together without a transaction block, in one round trip:
 *  - parents are inserted, or replace a stored row with a lower version;
 *  - a replaced parent's children are upserted, and its old children that
 *    the new version no longer has are deleted (disjoint rows, so the two
 *    parts never touch the same row);
 *  - the partition's next offset is stored, only ever forwards: a zombie
 *    (a member that lost the partition and has not noticed yet) writing an
 *    older batch must not rewind the new owner's position.
 * It returns how many parents were written; the rest were redeliveries or
 * older versions.
 */
export function versionedBatchStatement(spec: {
  schema: string;
  parent: VersionedTableSpec;
  children?: ChildTableSpec;
}): string {
  const { parent, children } = spec;
  const parentColumns = Object.keys(parent.columns).map(column);
  const key = column(parent.key);
  const updates = parentColumns.filter((name) => name !== key).map((c) => `${c} = EXCLUDED.${c}`);
  if (parent.touched) updates.push(`${column(parent.touched)} = CURRENT_TIMESTAMP`);
  const parts = [
    `incoming AS (${recordset(parent, 1, 'incoming')})`,
    // xmax is 0 on a freshly inserted row version and set on one an update produced.
    `written AS (
      INSERT INTO ${qualified(parent)} AS stored (${parentColumns.join(', ')})
      SELECT ${parentColumns.join(', ')} FROM incoming
      ON CONFLICT (${key}) DO UPDATE SET ${updates.join(', ')}
      WHERE stored.${column(parent.version)} < EXCLUDED.${column(parent.version)}
      RETURNING stored.${key} AS key, (stored.xmax = 0) AS inserted)`,
  ];
  if (children) {
    const childColumns = Object.keys(children.columns).map(column);
    const childKey = children.key.map(column);
    const childTable = qualified(children);
    const parentKey = column(children.parentKey);
    const childUpdates = childColumns
      .filter((name) => !childKey.includes(name))
      .map((c) => `${c} = EXCLUDED.${c}`);
    parts.push(
      `incoming_children AS (${recordset(children, 2, 'incoming_children')})`,
      `pruned AS (
        DELETE FROM ${childTable} AS old USING written
        WHERE old.${parentKey} = written.key AND NOT written.inserted
          AND NOT EXISTS (SELECT 1 FROM incoming_children fresh
                          WHERE ${childKey.map((c) => `fresh.${c} = old.${c}`).join(' AND ')}))`,
      `children AS (
        INSERT INTO ${childTable} AS stored (${childColumns.join(', ')})
        SELECT ${childColumns.map((c) => `fresh.${c}`).join(', ')}
        FROM incoming_children fresh JOIN written ON fresh.${parentKey} = written.key
        ON CONFLICT (${childKey.join(', ')}) DO ${
          childUpdates.length > 0 ? `UPDATE SET ${childUpdates.join(', ')}` : 'NOTHING'
        })`,
    );
  }
  const at = children ? 3 : 2;
  parts.push(
    `position AS (
      INSERT INTO ${identifier(spec.schema, 'schema')}."consumed_offset" AS stored ("topic", "partition", "next_offset")
      VALUES ($${at}, $${at + 1}, $${at + 2})
      ON CONFLICT ("topic", "partition")
      DO UPDATE SET "next_offset" = EXCLUDED."next_offset", "updated_at" = CURRENT_TIMESTAMP
      WHERE stored."next_offset" < EXCLUDED."next_offset")`,
  );
  return `WITH ${parts.join(',\n')}\nSELECT count(*)::int AS written FROM written`;
}

const statements = new WeakMap<object, string>();

/**
 * A consumer's whole batch write, in one atomic statement: the newest version
 * per key, upserted where newer, its children replaced, and the partition's
 * next offset stored. Replaying it changes nothing.
 */
export async function writeVersionedBatch<Event>(
  sql: SqlClient,
  spec: VersionedRowsSpec<Event>,
  events: readonly Event[],
  position: ConsumedPosition,
): Promise<{ written: number; skipped: number }> {
  let statement = statements.get(spec);
  if (statement === undefined) statements.set(spec, (statement = versionedBatchStatement(spec)));
  const newest = newestPerKey(events, spec.key, spec.version).map(spec.rows);
  const rows = [toJson(newest.map((written) => written.parent))];
  if (spec.children) rows.push(toJson(newest.flatMap((written) => written.children ?? [])));
  const [{ written }] = await sql.$queryRawUnsafe<{ written: number }[]>(
    statement,
    ...rows,
    position.topic,
    position.partition,
    BigInt(position.nextOffset),
  );
  return { written, skipped: events.length - written };
}

/** The next offset stored for a partition, if any. */
export async function readConsumedOffset(
  sql: SqlClient,
  schema: string,
  topic: string,
  partition: number,
): Promise<number | undefined> {
  const rows = await sql.$queryRawUnsafe<{ next_offset: bigint | string | number }[]>(
    `SELECT "next_offset" FROM ${identifier(schema, 'schema')}."consumed_offset"
     WHERE "topic" = $1 AND "partition" = $2`,
    topic,
    partition,
  );
  return rows[0] === undefined ? undefined : Number(rows[0].next_offset);
}
