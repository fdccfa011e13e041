import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type StartedPostgres } from '@hospital/processes';
import { Client } from 'pg';
import {
  applyMigrations,
  bootstrapServiceDatabases,
  serviceUrl,
  type ServiceDatabase,
} from '../src';

const billing: ServiceDatabase = { schema: 'billing', role: 'billing_svc', password: 'billing-pw' };
const pharmacy: ServiceDatabase = {
  schema: 'pharmacy',
  role: 'pharmacy_svc',
  password: "pharm'acy",
};
const housekeeping: ServiceDatabase = {
  schema: 'housekeeping',
  role: 'housekeeping_svc',
  password: 'hk-pw',
};

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

function migrationsDir(root: string, service: string, migrations: Record<string, string>): string {
  const dir = join(root, service, 'migrations');
  for (const [name, sql] of Object.entries(migrations)) {
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

describe('db: schema and role bootstrap, Prisma-layout migrations', () => {
  let postgres: StartedPostgres;
  let root: string;
  beforeAll(async () => {
    postgres = await startPostgres();
    root = mkdtempSync(join(tmpdir(), 'migrations-'));
    await bootstrapServiceDatabases(postgres.url, [billing, pharmacy, housekeeping]);
    await bootstrapServiceDatabases(postgres.url, [billing, pharmacy, housekeeping]); // idempotent
  });
  afterAll(async () => {
    await postgres?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('applies each pending migration once, recording it as Prisma does', async () => {
    const dir = migrationsDir(root, 'billing', {
      '20261101000000_init':
        'CREATE TABLE invoice (checkout_id text PRIMARY KEY, total_minor bigint NOT NULL);',
      '20261102000000_lines':
        'CREATE TABLE invoice_line (checkout_id text NOT NULL REFERENCES invoice, line_number int NOT NULL, PRIMARY KEY (checkout_id, line_number));',
    });
    const url = serviceUrl(postgres.url, billing);
    await expect(applyMigrations(url, 'billing', dir)).resolves.toEqual({
      applied: ['20261101000000_init', '20261102000000_lines'],
      alreadyApplied: [],
    });
    await expect(applyMigrations(url, 'billing', dir)).resolves.toEqual({
      applied: [],
      alreadyApplied: ['20261101000000_init', '20261102000000_lines'],
    });
    await expect(
      query(
        url,
        'SELECT migration_name, applied_steps_count FROM billing._prisma_migrations ORDER BY migration_name',
      ),
    ).resolves.toEqual([
      { migration_name: '20261101000000_init', applied_steps_count: 1 },
      { migration_name: '20261102000000_lines', applied_steps_count: 1 },
    ]);
    await query(url, "INSERT INTO invoice VALUES ('CO-1', 100)"); // search_path is the service's schema
  });

  it('refuses to go on when an applied migration was edited', async () => {
    const dir = migrationsDir(root, 'billing-edited', {
      '20261101000000_init':
        'CREATE TABLE invoice (checkout_id text PRIMARY KEY, total_minor bigint NOT NULL);',
    });
    writeFileSync(
      join(dir, '20261101000000_init', 'migration.sql'),
      'CREATE TABLE invoice (id int);',
    );
    await expect(
      applyMigrations(serviceUrl(postgres.url, billing), 'billing', dir),
    ).rejects.toThrow(/changed after it was applied/);
  });

  it('rolls a failing migration back and reports which one', async () => {
    const dir = migrationsDir(root, 'housekeeping', {
      '20261101000000_bad': 'CREATE TABLE task (id int); SELECT no_such_function();',
    });
    const url = serviceUrl(postgres.url, housekeeping);
    await expect(applyMigrations(url, 'housekeeping', dir)).rejects.toThrow(
      /20261101000000_bad failed/,
    );
    await expect(query(url, "SELECT to_regclass('housekeeping.task') AS t")).resolves.toEqual([
      { t: null },
    ]);
  });

  it("confines each role to its schema: billing gets permission denied on pharmacy's tables and in public", async () => {
    const pharmacyDir = migrationsDir(root, 'pharmacy', {
      '20261101000000_init':
        'CREATE TABLE dispensed_medication (checkout_id text, rxnorm_code text);',
    });
    await applyMigrations(serviceUrl(postgres.url, pharmacy), 'pharmacy', pharmacyDir);
    const billingUrl = serviceUrl(postgres.url, billing);
    await expect(query(billingUrl, 'SELECT * FROM pharmacy.dispensed_medication')).rejects.toThrow(
      /permission denied for schema pharmacy/,
    );
    await expect(query(billingUrl, 'CREATE TABLE public.sneaky (id int)')).rejects.toThrow(
      /permission denied for schema public/,
    );
    await expect(
      query(serviceUrl(postgres.url, pharmacy), 'SELECT * FROM billing.invoice'),
    ).rejects.toThrow(/permission denied for schema billing/);
  });

  it('refuses schema and role names that are not plain identifiers', async () => {
    await expect(
      bootstrapServiceDatabases(postgres.url, [
        { schema: 'billing; DROP', role: 'x', password: 'p' },
      ]),
    ).rejects.toThrow(/schema/);
  });
});
