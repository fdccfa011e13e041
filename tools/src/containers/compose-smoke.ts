// The compose smoke test of the container lane (tools/containers/lane.sh):
// the real docker-compose.yml, built and run, checked from the host.
//   up --build → healthy → 1,000 POST /checkouts → scale billing to 3 →
//   SIGKILL one billing container → settled → every schema holds exactly the
//   1,000 checkouts, billing went through the expected generations → down -v.
// Talks only to the containers it started (through their published ports on
// 127.0.0.1 and docker exec). Prints progress; exits 1 on any failed check.
import { execFile } from 'node:child_process';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DashboardSnapshot } from '@hospital/admin-api';
import { checkoutBody, postJson } from '../shared/checkout-requests';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
const PROJECT = process.env.SMOKE_PROJECT ?? 'hospital-smoke';
const CHECKOUTS = Number(process.env.SMOKE_CHECKOUTS ?? 1_000);
const DASHBOARD = 'http://127.0.0.1:8080';
const CHECKOUT = 'http://127.0.0.1:3000';

const started = Date.now();
const say = (line: string) =>
  process.stdout.write(
    `[compose-smoke +${((Date.now() - started) / 1000).toFixed(0)} s] ${line}\n`,
  );

async function compose(...args: string[]): Promise<string> {
  const { stdout } = await run(
    'docker-compose',
    ['-p', PROJECT, '-f', 'docker-compose.yml', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, SIMULATOR_RATE: '0' },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return stdout;
}

async function docker(...args: string[]): Promise<string> {
  return (await run('docker', args, { maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
}

/** Polls `check` until it returns a value, or fails with what it last saw. */
async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${last}` : ''}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function containersOf(service: string): Promise<string[]> {
  return (await compose('ps', '-q', service)).split('\n').filter(Boolean);
}

async function health(container: string): Promise<string> {
  return docker(
    'inspect',
    '-f',
    '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}',
    container,
  );
}

async function allHealthy(expected: Record<string, number>): Promise<void> {
  await until(`healthy: ${JSON.stringify(expected)}`, 180_000, async () => {
    for (const [service, count] of Object.entries(expected)) {
      const containers = await containersOf(service);
      const states = await Promise.all(containers.map(health));
      if (states.filter((state) => state === 'healthy').length !== count)
        throw new Error(`${service}: ${states.join(', ') || 'no containers'}`);
    }
    return true;
  });
}

async function snapshot(): Promise<DashboardSnapshot> {
  const response = await fetch(`${DASHBOARD}/api/snapshot`);
  if (!response.ok) throw new Error(`dashboard answered ${response.status}`);
  return (await response.json()) as DashboardSnapshot;
}

/** Rows per schema, counted inside the postgres container. */
async function countRows(): Promise<Record<string, number>> {
  const [postgres] = await containersOf('postgres');
  const sql =
    "select (select count(*) from billing.invoice) || ' ' || (select count(*) from housekeeping.turnover_task) || ' ' || (select count(*) from pharmacy.discharge_order)";
  const out = await docker(
    'exec',
    postgres,
    'psql',
    '-U',
    'hospital',
    '-d',
    'hospital',
    '-Atc',
    sql,
  );
  const [billing, housekeeping, pharmacy] = out.split(' ').map(Number);
  return { billing, housekeeping, pharmacy };
}

const failures: string[] = [];
function check(ok: boolean, description: string): void {
  say(`${ok ? '✔' : '✖'} ${description}`);
  if (!ok) failures.push(description);
}

async function main(): Promise<void> {
  say(`docker-compose up --build -d (project ${PROJECT}) ...`);
  await compose('up', '--build', '-d');
  await allHealthy({
    postgres: 1,
    broker: 1,
    checkout: 1,
    billing: 2,
    housekeeping: 2,
    pharmacy: 1,
  });
  say('every service is healthy');

  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const statuses = new Map<number, number>();
  for (let sent = 0; sent < CHECKOUTS; sent += 50) {
    const answers = await Promise.all(
      Array.from({ length: Math.min(50, CHECKOUTS - sent) }, (_, index) =>
        postJson(agent, new URL('/checkouts', CHECKOUT), checkoutBody(sent + index, 'SMOKE')),
      ),
    );
    for (const { status } of answers) statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  agent.destroy();
  check(
    statuses.get(202) === CHECKOUTS,
    `POST /checkouts ×${CHECKOUTS}: ${JSON.stringify(Object.fromEntries(statuses))}`,
  );

  const before = (await snapshot()).groups.find((group) => group.groupId === 'billing');
  say(
    `billing before scaling: generation ${before?.generationId}, ${before?.members.length} members`,
  );
  say('docker-compose up -d --scale billing=3 ...');
  await compose('up', '-d', '--no-recreate', '--scale', 'billing=3');
  await until('billing with 3 members, Stable', 120_000, async () => {
    const billing = (await snapshot()).groups.find((group) => group.groupId === 'billing');
    return billing?.state === 'Stable' && billing.members.length === 3 ? billing : undefined;
  });
  say('billing has 3 members');

  const [victim] = await containersOf('billing');
  say(`docker kill -s KILL ${victim.slice(0, 12)} (a billing replica; no LeaveGroup) ...`);
  await docker('kill', '-s', 'KILL', victim);
  const settled = await until('billing to notice the crash and settle', 120_000, async () => {
    const billing = (await snapshot()).groups.find((group) => group.groupId === 'billing');
    const crash = billing?.rebalances.find(
      (record) => record.trigger === 'session timeout' && record.endedMs,
    );
    return crash &&
      billing?.state === 'Stable' &&
      billing.partitions.every((partition) => partition.ownerClientId)
      ? billing
      : undefined;
  });

  const rows = await until(`${CHECKOUTS} checkouts in every schema`, 120_000, async () => {
    const counts = await countRows();
    return Object.values(counts).every((count) => count >= CHECKOUTS) ? counts : undefined;
  });
  const lagFree = await until('every group to commit the log end', 60_000, async () => {
    const groups = (await snapshot()).groups;
    return groups.every((group) => group.totalLag === 0) ? groups : undefined;
  });
  const final = await countRows();
  for (const [schema, count] of Object.entries(final))
    check(count === CHECKOUTS, `${schema} holds exactly ${CHECKOUTS} checkouts (${count})`);
  check(
    JSON.stringify(rows) === JSON.stringify(final),
    'no rows appeared after the groups caught up',
  );
  check(
    lagFree.length === 3,
    `three groups, all at lag 0 (${lagFree.map((group) => group.groupId).join(', ')})`,
  );

  const history = [...settled.rebalances].reverse(); // oldest first
  say(
    `billing generations: ${history.map((record) => `${record.generationId} (${record.trigger}, ${record.members} members)`).join(' → ')}`,
  );
  const joined3 = history.findIndex(
    (record) => record.trigger === 'member joined' && record.members === 3,
  );
  const crashed = history.findIndex((record) => record.trigger === 'session timeout');
  check(joined3 >= 0, 'billing rebalanced when the third replica joined');
  check(
    crashed > joined3,
    'billing rebalanced again after the killed replica missed its heartbeats',
  );
  check(
    settled.generationId >= (before?.generationId ?? 0) + 2,
    `billing generation went from ${before?.generationId} to ${settled.generationId}`,
  );
  check(
    new Set(settled.partitions.map((partition) => partition.ownerMemberId)).size ===
      settled.members.length,
    `each of billing's ${settled.members.length} live members owns partitions after the crash`,
  );
}

main()
  .catch((error: unknown) => {
    failures.push((error as Error).message);
    say(`✖ ${(error as Error).message}`);
  })
  .finally(async () => {
    if (failures.length > 0) {
      say('logs of the broker and billing (last 40 lines each):');
      for (const service of ['broker', 'billing'])
        process.stdout.write(await compose('logs', '--tail', '40', service).catch(() => ''));
    }
    say('docker-compose down -v ...');
    await compose('down', '-v', '--remove-orphans').catch((error: unknown) =>
      say(`down failed: ${(error as Error).message}`),
    );
    say(
      failures.length === 0
        ? 'compose smoke test passed'
        : `compose smoke test FAILED: ${failures.length} check(s)`,
    );
    process.exit(failures.length === 0 ? 0 : 1);
  });
