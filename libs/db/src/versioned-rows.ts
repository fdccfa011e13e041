import { identifier } from './identifiers';

/**
 * The raw-SQL surface the writers need. A Prisma client or interactive
 * transaction has it; so can a thin wrapper around `pg` in tests.
 */
export interface SqlClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
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
  /** Set to now() whenever the row is written; left to its default on insert. */
  touched?: string;
}

export interface ChildTableSpec extends TableSpec {
  /** The column that points at the parent's key. */
  parentKey: string;
}

const qualified = (spec: TableSpec) =>
  `${identifier(spec.schema, 'schema')}.${identifier(spec.table, 'table')}`;

const columnNames = (spec: TableSpec) =>
  Object.keys(spec.columns).map((column) => identifier(column, 'column'));

/** `jsonb_to_recordset($n::jsonb) AS incoming(col type, …)`: a whole batch as one parameter. */
function recordset(spec: TableSpec, parameter: number): string {
  const definitions = Object.entries(spec.columns).map(
    ([column, type]) => `${identifier(column, 'column')} ${type}`,
  );
  return `jsonb_to_recordset($${parameter}::jsonb) AS incoming(${definitions.join(', ')})`;
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
 * Inserts rows, or replaces stored rows that have a lower version, in one
 * statement. Returns the keys actually written; the others were as new or
 * newer already (a redelivery or an out-of-order older event). Keys must be
 * unique within `rows` (see newestPerKey).
 */
export async function upsertNewer(
  sql: SqlClient,
  spec: VersionedTableSpec,
  rows: SqlRow[],
): Promise<string[]> {
  if (rows.length === 0) return [];
  const table = qualified(spec);
  const columns = columnNames(spec);
  const key = identifier(spec.key, 'column');
  const version = identifier(spec.version, 'column');
  const updates = columns.filter((column) => column !== key).map((c) => `${c} = EXCLUDED.${c}`);
  if (spec.touched) updates.push(`${identifier(spec.touched, 'column')} = CURRENT_TIMESTAMP`);
  const written = await sql.$queryRawUnsafe<{ key: string }[]>(
    `INSERT INTO ${table} AS stored (${columns.join(', ')})
     SELECT ${columns.join(', ')} FROM ${recordset(spec, 1)}
     ON CONFLICT (${key}) DO UPDATE SET ${updates.join(', ')}
     WHERE stored.${version} < EXCLUDED.${version}
     RETURNING ${key} AS key`,
    toJson(rows),
  );
  return written.map((row) => row.key);
}

/** Replaces every child row of the given parents with `rows` (rows of other parents are ignored). */
export async function replaceChildren(
  sql: SqlClient,
  spec: ChildTableSpec,
  parentKeys: readonly string[],
  rows: SqlRow[],
): Promise<void> {
  if (parentKeys.length === 0) return;
  const table = qualified(spec);
  const parentKey = identifier(spec.parentKey, 'column');
  await sql.$executeRawUnsafe(
    `DELETE FROM ${table} WHERE ${parentKey} IN (SELECT jsonb_array_elements_text($1::jsonb))`,
    JSON.stringify(parentKeys),
  );
  const parents = new Set(parentKeys);
  const children = rows.filter((row) => parents.has(String(row[spec.parentKey])));
  if (children.length === 0) return;
  const columns = columnNames(spec).join(', ');
  await sql.$executeRawUnsafe(
    `INSERT INTO ${table} (${columns}) SELECT ${columns} FROM ${recordset(spec, 1)}`,
    toJson(children),
  );
}

/** Where a consumer resumes a partition: stored in the same transaction as the rows it wrote. */
export interface ConsumedPosition {
  topic: string;
  partition: number;
  nextOffset: number;
}

/** Upserts `<schema>.consumed_offset` (topic, partition, next_offset, updated_at). */
export async function storeConsumedOffset(
  sql: SqlClient,
  schema: string,
  position: ConsumedPosition,
): Promise<void> {
  await sql.$executeRawUnsafe(
    `INSERT INTO ${identifier(schema, 'schema')}."consumed_offset" AS stored
       ("topic", "partition", "next_offset") VALUES ($1, $2, $3)
     ON CONFLICT ("topic", "partition")
     DO UPDATE SET "next_offset" = EXCLUDED."next_offset", "updated_at" = CURRENT_TIMESTAMP`,
    position.topic,
    position.partition,
    BigInt(position.nextOffset),
  );
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

/** How one event becomes rows: a parent keyed by the event's natural key and, optionally, its children. */
export interface VersionedRowsSpec<Event> {
  schema: string;
  parent: VersionedTableSpec;
  children?: ChildTableSpec;
  key(event: Event): string;
  version(event: Event): number;
  rows(event: Event): { parent: SqlRow; children?: SqlRow[] };
}

/**
 * A consumer's whole batch write, to run inside one transaction: the newest
 * version per key, upserted where newer, its children replaced, and the
 * partition's next offset stored. Replaying it changes nothing.
 */
export async function writeVersionedBatch<Event>(
  sql: SqlClient,
  spec: VersionedRowsSpec<Event>,
  events: readonly Event[],
  position: ConsumedPosition,
): Promise<{ written: number; skipped: number }> {
  const newest = newestPerKey(events, spec.key, spec.version).map(spec.rows);
  const written = await upsertNewer(
    sql,
    spec.parent,
    newest.map((rows) => rows.parent),
  );
  if (spec.children)
    await replaceChildren(
      sql,
      spec.children,
      written,
      newest.flatMap((rows) => rows.children ?? []),
    );
  await storeConsumedOffset(sql, spec.schema, position);
  return { written: written.length, skipped: events.length - written.length };
}
