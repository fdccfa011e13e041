#!/usr/bin/env node
// `npm run chaos`: the hospital (embedded Postgres, broker, checkout, billing
// ×2, housekeeping ×2, pharmacy ×1, each its own process) under a steady
// stream of POST /checkouts while rounds of faults hit it: consumer SIGKILLs,
// restarts, joins, graceful leaves, broker SIGKILL + restart, join storms (10
// replicas of one group started at once), bursts (10× the rate for 3 s) and
// partitions added to the topic under load. Meanwhile
// it watches ownership and tries commits as a fenced member. Afterwards it
// checks the invariants and prints rounds, faults, records and violations;
// exits 1 on any violation.
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, BrokerClientError, BrokerConnection } from '@hospital/broker-client';
import { GroupState } from '@hospital/proto';
import { Client } from 'pg';
import { freeDemoPorts, runDemo, type RunningDemo } from '../demo/run-demo';
import { checkoutBody, postJson } from '../shared/checkout-requests';
import { Random } from '../fuzz/mutate';

const ROUNDS = Number(process.env.CHAOS_ROUNDS ?? 50);
const RATE = Number(process.env.CHAOS_RATE ?? 40);
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
const GROUPS = ['billing', 'housekeeping', 'pharmacy'] as const;
const TOPIC = 'patient.checkout';
const STORM_REPLICAS = 10;
const BURST_FACTOR = 10;
const BURST_MS = 3_000;
const MAX_PARTITIONS = 12;
/** Added partitions must hold checkouts within this long (the producer's metadata age is 5 s). */
const NEW_PARTITION_BOUND_MS = 15_000;
/** …and every group must have consumed and committed on them within this long (a rebalance, then a 1 s commit interval). */
const NEW_PARTITION_COMMIT_BOUND_MS = 30_000;

const started = Date.now();
const say = (line: string) =>
  process.stdout.write(
    `[chaos +${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}\n`,
  );
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const violations: string[] = [];
const violation = (text: string) => {
  violations.push(text);
  say(`✖ VIOLATION ${text}`);
};

/** Steady POST /checkouts; remembers which were acknowledged (202: the broker has them at acks=all). */
class Load {
  readonly acked = new Set<string>();
  readonly attempted = new Set<string>();
  refused = 0;
  private running = true;
  private done: Promise<void> | undefined;
  private burstUntil = 0;

  /** 10× the steady rate for a while, as a rush of discharges would be. */
  burst(ms: number): void {
    this.burstUntil = Date.now() + ms;
  }

  start(url: string): void {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    this.done = (async () => {
      for (let sequence = 0; this.running; sequence++) {
        const id = `CHAOS-${sequence}`;
        this.attempted.add(id);
        void postJson(agent, new URL('/checkouts', url), checkoutBody(sequence, 'CHAOS')).then(
          (answer) => (answer.status === 202 ? this.acked.add(id) : this.refused++),
          () => this.refused++,
        );
        await sleep(1_000 / (Date.now() < this.burstUntil ? RATE * BURST_FACTOR : RATE));
      }
      await sleep(2_000); // let the last answers arrive
      agent.destroy();
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

/** Samples every group's ownership; two owners of one partition in one generation is a violation. */
class OwnershipWatch {
  private readonly owners = new Map<string, string>();
  generationsSeen = 0;
  private running = true;

  async run(admin: Admin): Promise<void> {
    while (this.running) {
      for (const group of GROUPS) {
        try {
          const described = await admin.describeGroup(group);
          if (described.state !== GroupState.GROUP_STATE_STABLE) continue;
          const inThisSnapshot = new Map<string, string>();
          for (const member of described.members)
            for (const topic of member.assignment)
              for (const partition of topic.partitions) {
                const key = `${topic.topic}-${partition}`;
                const other = inThisSnapshot.get(key);
                if (other && other !== member.memberId)
                  violation(
                    `${group} generation ${described.generationId}: ${key} owned by ${other} and ${member.memberId}`,
                  );
                inThisSnapshot.set(key, member.memberId);
                const generationKey = `${group}/${described.generationId}/${key}`;
                const before = this.owners.get(generationKey);
                if (before === undefined) this.generationsSeen++;
                else if (before !== member.memberId)
                  violation(
                    `${group} generation ${described.generationId}: ${key} moved from ${before} to ${member.memberId} without a new generation`,
                  );
                this.owners.set(generationKey, member.memberId);
              }
        } catch {
          // the broker may be down this moment (a fault); the next sample will tell
        }
      }
      await sleep(250);
    }
  }

  stop(): void {
    this.running = false;
  }
}

/** A commit from a member the coordinator has fenced off (stale generation, or gone) must be refused. */
async function tryFencedCommits(
  connection: BrokerConnection,
  admin: Admin,
  counts: Map<string, number>,
): Promise<void> {
  for (const group of GROUPS) {
    let described;
    try {
      described = await admin.describeGroup(group);
    } catch {
      continue;
    }
    const attempts = [
      {
        memberId: described.members[0]?.memberId ?? 'zombie',
        generationId: described.generationId - 1,
        what: 'stale generation',
      },
      {
        memberId: `${group}-zombie-member`,
        generationId: described.generationId,
        what: 'unknown member',
      },
    ];
    for (const attempt of attempts) {
      if (attempt.generationId < 0) continue;
      try {
        await connection.call('offsetCommit', {
          groupId: group,
          generationId: attempt.generationId,
          memberId: attempt.memberId,
          groupInstanceId: undefined,
          topics: [
            { name: TOPIC, partitions: [{ partition: 0, committedOffset: 0, metadata: 'zombie' }] },
          ],
        });
        violation(
          `${group}: a commit as ${attempt.what} (generation ${attempt.generationId}) was accepted`,
        );
      } catch (error) {
        if (!(error instanceof BrokerClientError) || error.reasonName === 'UNAVAILABLE') continue; // broker down: not an answer
        counts.set(error.reasonName, (counts.get(error.reasonName) ?? 0) + 1);
      }
    }
  }
}

async function main(): Promise<void> {
  const random = new Random(SEED);
  say(
    `seed ${SEED} (CHAOS_SEED), ${ROUNDS} rounds (CHAOS_ROUNDS), ${RATE} checkouts/s (CHAOS_RATE)`,
  );
  const stateDir = mkdtempSync(join(tmpdir(), 'hospital-chaos-'));
  const ports = await freeDemoPorts(16);
  const initial = { billing: 2, housekeeping: 2, pharmacy: 1 };
  let demo: RunningDemo | undefined;
  const load = new Load();
  const watch = new OwnershipWatch();
  const faults = new Map<string, number>();
  const fenced = new Map<string, number>();
  const fault = (name: string) => faults.set(name, (faults.get(name) ?? 0) + 1);
  try {
    demo = await runDemo({
      stateDir,
      fresh: true,
      rate: 0,
      replicas: initial,
      ports,
      // Crashes noticed within 3 s rather than 10, so rounds see their consequences.
      consumerEnv: { SESSION_TIMEOUT_MS: '3000', HEARTBEAT_INTERVAL_MS: '1000' },
      log: say,
    });
    const running = demo;
    const connection = new BrokerConnection({
      broker: running.brokerAddress,
      clientId: 'chaos',
      adminToken: running.adminToken,
    });
    const admin = new Admin(connection, { retries: 0, initialBackoffMs: 50, maxBackoffMs: 50 });
    load.start(`http://127.0.0.1:${ports.checkout}`);
    const watching = watch.run(admin);
    const live = (group?: string) =>
      running.supervisor
        .list()
        .filter((replica) => replica.state === 'running' && (!group || replica.group === group));
    const down = () =>
      running.supervisor
        .list()
        .filter((replica) => ['killed', 'stopped', 'exited'].includes(replica.state));

    const addPartitions = async (round: number) => {
      const before = (await admin.describeTopic(TOPIC)).partitions.length;
      const after = Math.min(MAX_PARTITIONS, before + 2);
      say(`round ${round}: ${TOPIC} grows from ${before} to ${after} partitions under load`);
      fault('partitions added');
      await admin.createPartitions(TOPIC, after);
      const added = Date.now();
      const fresh = Array.from({ length: after - before }, (_, index) => before + index);
      /** Polls `pending` (what is still missing, or nothing) until it is empty or `boundMs` passed. */
      const within = async (boundMs: number, what: string, pending: () => Promise<string[]>) => {
        for (;;) {
          const missing = await pending();
          if (missing.length === 0)
            return say(`  ${what} ${Date.now() - added} ms after the change`);
          if (Date.now() - added > boundMs) {
            violation(`not within ${boundMs} ms of adding partitions: ${missing.join('; ')}`);
            // Where each group stands, so the violation can be explained.
            for (const group of GROUPS.filter((name) => missing.some((m) => m.startsWith(name))))
              say(`  ${group}: ${JSON.stringify(await admin.describeGroup(group).catch(String))}`);
            return;
          }
          await sleep(250);
        }
      };
      await within(NEW_PARTITION_BOUND_MS, 'every partition holds checkouts', async () =>
        (await admin.describeTopic(TOPIC)).partitions
          .filter((partition) => partition.logEndOffset === 0)
          .map((partition) => `partition ${partition.partition} got no checkouts`),
      );
      await within(
        NEW_PARTITION_COMMIT_BOUND_MS,
        'every group committed on the new partitions',
        async () => {
          const missing: string[] = [];
          // A group the faults left with no replica running has nobody to commit; it catches up at the end.
          for (const group of GROUPS.filter((name) => live(name).length > 0)) {
            const committed = await admin.fetchOffsets(group, TOPIC);
            for (const partition of fresh)
              if (!committed.some((entry) => entry.partition === partition && entry.offset > 0))
                missing.push(`${group} has not committed on partition ${partition}`);
          }
          return missing;
        },
      );
    };

    for (let round = 1; round <= ROUNDS; round++) {
      const roll = random.next();
      const group = random.pick(GROUPS);
      // The three kinds that found the Step 9 bugs come round on a schedule, so every run has them.
      const scheduled = round % 12;
      if (scheduled === 3 && live(group).length < 6) {
        const target = live(group).length + STORM_REPLICAS;
        say(
          `round ${round}: join storm: ${group} starts ${STORM_REPLICAS} replicas at once (→ ${target})`,
        );
        fault('join storm');
        running.supervisor.scale(group, target);
      } else if (scheduled === 6) {
        say(
          `round ${round}: burst: ${BURST_FACTOR}× the rate (${RATE * BURST_FACTOR}/s) for ${BURST_MS} ms`,
        );
        fault('burst');
        load.burst(BURST_MS);
      } else if (
        scheduled === 9 &&
        (await admin.describeTopic(TOPIC)).partitions.length < MAX_PARTITIONS
      ) {
        await addPartitions(round);
      } else if (roll < 0.1) {
        say(`round ${round}: broker SIGKILL + restart`);
        fault('broker SIGKILL + restart');
        await running.crashAndRestartBroker();
      } else if (roll < 0.45 && live().length > 1) {
        const victim = random.pick(live());
        say(`round ${round}: SIGKILL ${victim.name}`);
        fault('consumer SIGKILL');
        running.supervisor.kill(victim.name);
      } else if (roll < 0.65 && down().length > 0) {
        const back = random.pick(down());
        say(`round ${round}: restart ${back.name}`);
        fault('consumer restart');
        running.supervisor.restart(back.name);
      } else if (roll < 0.85 && live(group).length < 4) {
        say(`round ${round}: ${group} joins a replica (→ ${live(group).length + 1})`);
        fault('consumer join');
        running.supervisor.scale(group, live(group).length + 1);
      } else if (live(group).length > 1) {
        const leaving = live(group).length > 4 ? live(group).length - 4 : 1;
        say(
          `round ${round}: ${group} loses ${leaving} replica(s) gracefully (→ ${live(group).length - leaving})`,
        );
        fault('consumer graceful leave');
        running.supervisor.scale(group, live(group).length - leaving);
      } else {
        say(`round ${round}: ${group} joins a replica`);
        fault('consumer join');
        running.supervisor.scale(group, live(group).length + 1);
      }
      await tryFencedCommits(connection, admin, fenced);
      await sleep(1_000 + random.int(2_000));
    }

    say(
      'faults over: stopping the load, bringing every group back to its replicas, waiting for them to catch up',
    );
    await load.stop();
    for (const group of GROUPS) running.supervisor.scale(group, initial[group]);
    await running.supervisor.settled();
    const db = new Client({
      connectionString: running.databaseUrl,
    });
    await db.connect();
    const ids = async (sql: string) =>
      new Set((await db.query<{ id: string }>(sql)).rows.map((row) => row.id));
    const tables = {
      billing: 'select checkout_id as id from billing.invoice',
      housekeeping: 'select checkout_id as id from housekeeping.turnover_task',
      pharmacy: 'select checkout_id as id from pharmacy.discharge_order',
    };
    // One connection runs one query at a time (pg queues the rest, and pg 9 will refuse them).
    const allIds = async () => {
      const found: Record<string, Set<string>> = {};
      for (const group of GROUPS) found[group] = await ids(tables[group]);
      return found;
    };
    const deadline = Date.now() + 180_000;
    let rows: Record<string, Set<string>> = {};
    for (;;) {
      rows = await allIds();
      const missing = GROUPS.map(
        (group) => [...load.acked].filter((id) => !rows[group].has(id)).length,
      );
      if (missing.every((count) => count === 0) || Date.now() > deadline) break;
      await sleep(1_000);
    }
    await sleep(3_000); // anything still in flight lands now, and would show up as a phantom or a double
    rows = await allIds();
    for (const group of GROUPS) {
      const lost = [...load.acked].filter((id) => !rows[group].has(id));
      const phantom = [...rows[group]].filter((id) => !load.attempted.has(id));
      if (lost.length)
        violation(
          `${group}: ${lost.length} acknowledged checkouts missing (${lost.slice(0, 5).join(', ')})`,
        );
      if (phantom.length) violation(`${group}: ${phantom.length} rows that were never sent`);
    }
    const [{ lines, invoices }] = (
      await db.query<{ lines: string; invoices: string }>(
        'select (select count(*) from billing.invoice_line) as lines, (select count(*) from billing.invoice) as invoices',
      )
    ).rows;
    if (Number(lines) !== 2 * Number(invoices))
      violation(`billing: ${lines} invoice lines for ${invoices} invoices (2 each expected)`);
    const [{ meds, orders }] = (
      await db.query<{ meds: string; orders: string }>(
        'select (select count(*) from pharmacy.dispensed_medication) as meds, (select count(*) from pharmacy.discharge_order) as orders',
      )
    ).rows;
    if (Number(meds) !== Number(orders))
      violation(`pharmacy: ${meds} medications for ${orders} orders (1 each expected)`);
    await db.end();
    watch.stop();
    await watching;
    connection.close();

    process.stdout.write('\n');
    say(
      `rounds: ${ROUNDS}; faults: ${[...faults].map(([name, count]) => `${name} ×${count}`).join(', ')}`,
    );
    say(
      `records: ${load.attempted.size} sent, ${load.acked.size} acknowledged, ${load.refused} refused while the broker was down; ` +
        `rows: ${GROUPS.map((group) => `${group} ${rows[group].size}`).join(', ')}`,
    );
    say(`ownership: ${watch.generationsSeen} (group, generation, partition) owners sampled`);
    say(
      `fenced commits refused: ${[...fenced].map(([reason, count]) => `${reason} ×${count}`).join(', ') || 'none tried'}`,
    );
    say(`violations: ${violations.length}`);
  } finally {
    watch.stop();
    await load.stop().catch(() => {});
    await demo?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
  process.exit(violations.length === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
