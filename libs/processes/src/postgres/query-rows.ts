import { Client } from 'pg';

/** One statement on a fresh connection, for checks from outside a service: the rows it returns. */
export async function queryRows<T extends object>(url: string, sql: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}
