import { startPostgres, type StartedPostgres } from '@hospital/processes';
import { Client } from 'pg';
import {
  newestPerKey,
  readConsumedOffset,
  writeVersionedBatch,
  type SqlClient,
  type VersionedRowsSpec,
} from '../src';

interface OrderEvent {
  id: string;
  version: number;
  total: bigint;
  skus: string[];
}

const ORDERS: VersionedRowsSpec<OrderEvent> = {
  schema: 'shop',
  parent: {
    schema: 'shop',
    table: 'order',
    key: 'order_id',
    version: 'event_version',
    touched: 'updated_at',
    columns: { order_id: 'text', event_version: 'bigint', total_minor: 'bigint' },
  },
  children: {
    schema: 'shop',
    table: 'order_line',
    parentKey: 'order_id',
    key: ['order_id', 'line_number'],
    columns: { order_id: 'text', line_number: 'int', sku: 'text' },
  },
  key: (event) => event.id,
  version: (event) => event.version,
  rows: (event) => ({
    parent: { order_id: event.id, event_version: BigInt(event.version), total_minor: event.total },
    children: event.skus.map((sku, index) => ({
      order_id: event.id,
      line_number: index + 1,
      sku,
    })),
  }),
};

/** The same table without children, as housekeeping writes. */
const ORDERS_ONLY: VersionedRowsSpec<OrderEvent> = { ...ORDERS, children: undefined };

/** The writer needs only Prisma's raw query method; pg can stand in for it. */
function sqlClient(client: Client): SqlClient {
  return {
    $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) =>
      (await client.query(query, values)).rows as T,
  };
}

const order = (id: string, version: number, total: bigint, skus: string[] = []): OrderEvent => ({
  id,
  version,
  total,
  skus,
});

describe('db: versioned batch writes with the offset, in one statement', () => {
  let postgres: StartedPostgres;
  let client: Client;
  let sql: SqlClient;
  let offset = 0;
  const write = (spec: VersionedRowsSpec<OrderEvent>, events: OrderEvent[]) =>
    writeVersionedBatch(sql, spec, events, { topic: 'orders', partition: 0, nextOffset: ++offset });

  beforeAll(async () => {
    postgres = await startPostgres();
    client = new Client({ connectionString: postgres.url });
    await client.connect();
    sql = sqlClient(client);
    await client.query(`
      CREATE SCHEMA shop;
      CREATE TABLE shop."order" (order_id text PRIMARY KEY, event_version bigint NOT NULL,
        total_minor bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP);
      CREATE TABLE shop.order_line (order_id text NOT NULL REFERENCES shop."order" ON DELETE CASCADE,
        line_number int NOT NULL, sku text NOT NULL, PRIMARY KEY (order_id, line_number));
      CREATE TABLE shop.consumed_offset (topic text NOT NULL, partition int NOT NULL,
        next_offset bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP,
        PRIMARY KEY (topic, partition));`);
  });
  afterAll(async () => {
    await client?.end();
    await postgres?.stop();
  });

  const stored = async () =>
    (
      await client.query(`
        SELECT o.order_id, o.event_version::int AS v, o.total_minor::text AS total,
               coalesce(string_agg(l.sku, ',' ORDER BY l.line_number), '') AS skus
        FROM shop."order" o LEFT JOIN shop.order_line l USING (order_id)
        GROUP BY o.order_id ORDER BY o.order_id`)
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

  it('inserts new keys with their children and stores the offset', async () => {
    await expect(
      write(ORDERS, [order('o1', 1, 100n, ['x', 'y']), order('o2', 2, 200n, ['z'])]),
    ).resolves.toEqual({ written: 2, skipped: 0 });
    expect(await stored()).toEqual([
      { order_id: 'o1', v: 1, total: '100', skus: 'x,y' },
      { order_id: 'o2', v: 2, total: '200', skus: 'z' },
    ]);
    expect(await readConsumedOffset(sql, 'shop', 'orders', 0)).toBe(offset);
    expect(await readConsumedOffset(sql, 'shop', 'orders', 1)).toBeUndefined();
  });

  it('replaces only older versions, with exactly the new children; older and equal versions change nothing', async () => {
    // o1 v2 is newer and has fewer lines; o2 v1 is older; the o2 v2 redelivery is as new.
    await expect(
      write(ORDERS, [order('o1', 2, 150n, ['w']), order('o2', 1, 1n, ['old'])]),
    ).resolves.toEqual({ written: 1, skipped: 1 });
    await expect(write(ORDERS, [order('o2', 2, 999n, ['dup'])])).resolves.toEqual({
      written: 0,
      skipped: 1,
    });
    expect(await stored()).toEqual([
      { order_id: 'o1', v: 2, total: '150', skus: 'w' },
      { order_id: 'o2', v: 2, total: '200', skus: 'z' },
    ]);
    // The offset moves on even when nothing was written.
    expect(await readConsumedOffset(sql, 'shop', 'orders', 0)).toBe(offset);
  });

  it('never moves the stored offset backwards: a zombie writing an older batch keeps its rows idempotent and the offset where it was', async () => {
    await writeVersionedBatch(sql, ORDERS, [order('zombie-a', 1, 10n)], {
      topic: 'orders',
      partition: 7,
      nextOffset: 50,
    });
    const late = await writeVersionedBatch(sql, ORDERS, [order('zombie-a', 1, 10n)], {
      topic: 'orders',
      partition: 7,
      nextOffset: 20,
    });
    expect(late.written).toBe(0);
    expect(await readConsumedOffset(sql, 'shop', 'orders', 7)).toBe(50);
    await writeVersionedBatch(sql, ORDERS, [order('zombie-b', 1, 10n)], {
      topic: 'orders',
      partition: 7,
      nextOffset: 51,
    });
    expect(await readConsumedOffset(sql, 'shop', 'orders', 7)).toBe(51);
  });

  it('ends a batch with duplicates and out-of-order versions in the newest one', async () => {
    await expect(
      write(ORDERS, [
        order('o3', 2, 30n, ['b', 'c']),
        order('o3', 1, 10n, ['a']),
        order('o3', 2, 30n, ['b', 'c']),
      ]),
    ).resolves.toEqual({ written: 1, skipped: 2 });
    expect((await stored())[2]).toEqual({ order_id: 'o3', v: 2, total: '30', skus: 'b,c' });
  });

  it('writes parent rows alone when the spec has no children, and keeps bigint precision', async () => {
    await write(ORDERS_ONLY, [order('o4', 1, 9_007_199_254_740_993n)]);
    expect((await stored())[3]).toEqual({
      order_id: 'o4',
      v: 1,
      total: '9007199254740993',
      skus: '',
    });
  });

  it('refuses table and column names that are not plain identifiers', async () => {
    const hostile: VersionedRowsSpec<OrderEvent> = {
      ...ORDERS,
      parent: { ...ORDERS.parent, table: 'order"; DROP TABLE x; --' },
    };
    await expect(write(hostile, [order('o9', 1, 1n)])).rejects.toThrow(/table .* must match/);
  });
});
