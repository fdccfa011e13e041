import { startPostgres, type StartedPostgres } from '@hospital/testing';
import { Client } from 'pg';
import pino from 'pino';
import {
  newestPerKey,
  readConsumedOffset,
  replaceChildren,
  storeConsumedOffset,
  upsertNewer,
  type ChildTableSpec,
  type SqlClient,
  type VersionedTableSpec,
} from '../src';

const ORDERS: VersionedTableSpec = {
  schema: 'shop',
  table: 'order',
  key: 'order_id',
  version: 'event_version',
  touched: 'updated_at',
  columns: {
    order_id: 'text',
    event_version: 'bigint',
    total_minor: 'bigint',
    placed_at: 'timestamptz',
  },
};
const LINES: ChildTableSpec = {
  schema: 'shop',
  table: 'order_line',
  parentKey: 'order_id',
  columns: { order_id: 'text', line_number: 'int', sku: 'text' },
};

/** The writers need only Prisma's two raw-SQL methods; pg can stand in for them. */
function sqlClient(client: Client): SqlClient {
  return {
    $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) =>
      (await client.query(query, values)).rows as T,
    $executeRawUnsafe: async (query: string, ...values: unknown[]) =>
      (await client.query(query, values)).rowCount ?? 0,
  };
}

const order = (id: string, version: number, total: bigint) => ({
  order_id: id,
  event_version: BigInt(version),
  total_minor: total,
  placed_at: new Date('2026-11-01T10:00:00Z'),
});

describe('db: versioned batch upserts and stored offsets', () => {
  let postgres: StartedPostgres;
  let client: Client;
  let sql: SqlClient;
  beforeAll(async () => {
    postgres = await startPostgres({ logger: pino({ level: 'silent' }) });
    client = new Client({ connectionString: postgres.url });
    await client.connect();
    sql = sqlClient(client);
    await client.query(`
      CREATE SCHEMA shop;
      CREATE TABLE shop."order" (order_id text PRIMARY KEY, event_version bigint NOT NULL,
        total_minor bigint NOT NULL, placed_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP);
      CREATE TABLE shop.order_line (order_id text NOT NULL REFERENCES shop."order" ON DELETE CASCADE,
        line_number int NOT NULL, sku text NOT NULL, PRIMARY KEY (order_id, line_number));
      CREATE TABLE shop.consumed_offset (topic text NOT NULL, partition int NOT NULL,
        next_offset bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
        PRIMARY KEY (topic, partition));`);
  });
  afterAll(async () => {
    await client.end();
    await postgres.stop();
  });

  const stored = async () =>
    (
      await client.query(
        'SELECT order_id, event_version::int AS v, total_minor::text AS total FROM shop."order" ORDER BY order_id',
      )
    ).rows;

  it('keeps the newest version per key within a batch', () => {
    const items = [
      { id: 'a', v: 1 },
      { id: 'b', v: 2 },
      { id: 'a', v: 3 },
      { id: 'a', v: 2 },
      { id: 'b', v: 2 },
    ];
    expect(
      newestPerKey(
        items,
        (i) => i.id,
        (i) => i.v,
      ),
    ).toEqual([
      { id: 'a', v: 3 },
      { id: 'b', v: 2 },
    ]);
  });

  it('inserts new keys, replaces only older versions, and reports which keys it wrote', async () => {
    expect(await upsertNewer(sql, ORDERS, [order('o1', 1, 100n), order('o2', 2, 200n)])).toEqual([
      'o1',
      'o2',
    ]);
    // o1 v2 is newer; o2 v1 is older and the o2 v2 redelivery is as new: both leave o2 alone.
    expect(await upsertNewer(sql, ORDERS, [order('o1', 2, 150n), order('o2', 1, 1n)])).toEqual([
      'o1',
    ]);
    expect(await upsertNewer(sql, ORDERS, [order('o2', 2, 999n)])).toEqual([]);
    expect(await stored()).toEqual([
      { order_id: 'o1', v: 2, total: '150' },
      { order_id: 'o2', v: 2, total: '200' },
    ]);
    // bigint beyond 2^53 survives the JSON parameter.
    await upsertNewer(sql, ORDERS, [order('o3', 1, 9_007_199_254_740_993n)]);
    expect((await stored())[2]).toEqual({ order_id: 'o3', v: 1, total: '9007199254740993' });
  });

  it("replaces a written parent's child rows and ignores rows of other parents", async () => {
    const line = (id: string, n: number, sku: string) => ({
      order_id: id,
      line_number: n,
      sku,
    });
    await replaceChildren(
      sql,
      LINES,
      ['o1', 'o2'],
      [line('o1', 1, 'x'), line('o1', 2, 'y'), line('o2', 1, 'z')],
    );
    await replaceChildren(sql, LINES, ['o1'], [line('o1', 1, 'w'), line('o2', 1, 'ignored')]);
    expect(
      (await client.query('SELECT order_id, line_number, sku FROM shop.order_line ORDER BY 1, 2'))
        .rows,
    ).toEqual([line('o1', 1, 'w'), line('o2', 1, 'z')]);
  });

  it('stores and reads the next offset per partition', async () => {
    expect(await readConsumedOffset(sql, 'shop', 'orders', 0)).toBeUndefined();
    await storeConsumedOffset(sql, 'shop', { topic: 'orders', partition: 0, nextOffset: 42 });
    await storeConsumedOffset(sql, 'shop', { topic: 'orders', partition: 0, nextOffset: 7 });
    expect(await readConsumedOffset(sql, 'shop', 'orders', 0)).toBe(7);
  });

  it('refuses table and column names that are not plain identifiers', async () => {
    await expect(
      upsertNewer(sql, { ...ORDERS, table: 'order"; DROP TABLE x; --' }, [order('o9', 1, 1n)]),
    ).rejects.toThrow(/table .* must match/);
  });
});
