// Rebalances at scale with real clients: 100 members of one group in a few
// processes on a topic of 1,000 partitions, under a steady load. After the
// 100th member joins, and again after one member leaves, a marker record is
// written to every partition; the time until every marker has been processed
// is the time until every partition is consumed again. Per partition the
// pause is from its revocation to its next owner's assignment; kept
// partitions (same owner before and after) must never pause under
// cooperative-sticky.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { BrokerConnection, Producer } from '@hospital/broker-client';
import { startBroker, type BrokerProcess } from '@hospital/processes';
import { MARKER_PREFIX, type MemberCommand, type MemberReport } from './rebalance-members';

export interface RebalanceAtScaleResult {
  assignor: string;
  /** With no change: every partition's marker processed (the floor of consumingAgainMs). */
  steadyMs: number;
  members: number;
  partitions: number;
  /** 'join': the last member joins; 'leave': one member leaves gracefully. */
  change: 'join' | 'leave';
  /** From the change to the last member's assignment in the generation that settles it. */
  assignedAgainMs: number;
  /** From the change to every partition's marker processed. */
  consumingAgainMs: number;
  movedPartitions: number;
  keptPartitions: number;
  /** Kept partitions that were revoked anyway (eager revokes everything). */
  keptRevoked: number;
  /** Revocation to next assignment, over the partitions that paused. */
  pauseP50Ms: number;
  pauseP99Ms: number;
}

const PROCESSES = 4;
const TOPIC = 'bench.rebalance';
const now = () => performance.timeOrigin + performance.now();
const percentile = (values: number[], p: number) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

class MemberProcesses {
  private readonly children: ChildProcess[] = [];
  private readonly listeners = new Set<(report: MemberReport) => void>();
  readonly owner = new Map<number, string>();
  readonly revokedAt = new Map<number, number>();
  readonly pauses: { partition: number; ms: number; at: number }[] = [];
  readonly revocations: { member: string; partition: number; at: number }[] = [];
  /** When a member last reported joining a generation. */
  lastJoinedAt = 0;

  constructor(broker: BrokerProcess, group: string, assignor: string) {
    for (let index = 0; index < PROCESSES; index++) {
      const child = fork(join(__dirname, 'rebalance-members.js'), [], {
        env: {
          ...process.env,
          BENCH_BROKER: broker.address,
          BENCH_TOPIC: TOPIC,
          BENCH_GROUP: group,
          BENCH_ASSIGNOR: assignor,
        },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      child.on('message', (report: MemberReport) => this.receive(report));
      this.children.push(child);
    }
  }

  private receive(report: MemberReport): void {
    if (report.type === 'revoked') {
      for (const partition of report.partitions) {
        this.revokedAt.set(partition, report.at);
        this.revocations.push({ member: report.member, partition, at: report.at });
        if (this.owner.get(partition) === report.member) this.owner.delete(partition);
      }
    } else if (report.type === 'joined') {
      this.lastJoinedAt = report.at;
      for (const partition of report.partitions) {
        const revoked = this.revokedAt.get(partition);
        if (revoked !== undefined)
          this.pauses.push({ partition, ms: report.at - revoked, at: report.at });
        this.revokedAt.delete(partition);
        this.owner.set(partition, report.member);
      }
    }
    for (const listener of this.listeners) listener(report);
  }

  /** Resolves once `check` holds: now, or after a later report. */
  until<T>(
    check: (report: MemberReport | undefined) => T | undefined,
    timeoutMs: number,
    what: string,
    progress: () => string = () => '',
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(
          new Error(
            `rebalance bench: timed out waiting for ${what} (${progress()}${this.owner.size} partitions owned, ${this.revokedAt.size} revoked and not reassigned)`,
          ),
        );
      }, timeoutMs);
      const listener = (report: MemberReport | undefined) => {
        const value = check(report);
        if (value === undefined) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(value);
      };
      this.listeners.add(listener);
      listener(undefined);
    });
  }

  send(index: number, command: MemberCommand): void {
    this.children[index % PROCESSES].send(command);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.send({ type: 'stop' } satisfies MemberCommand);
            setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
          }),
      ),
    );
  }
}

/** Every partition owned by exactly one member. */
const covering = (members: MemberProcesses, partitions: number) =>
  members.owner.size === partitions && members.revokedAt.size === 0;

async function markersConsumed(
  members: MemberProcesses,
  producer: Producer,
  partitions: number,
  phase: string,
  change: () => void,
): Promise<number> {
  const seen = new Set<number>();
  const done = members.until(
    (report) => {
      if (report?.type === 'marker' && report.phase === phase) seen.add(report.partition);
      return seen.size === partitions ? true : undefined;
    },
    60_000,
    `every partition to be consumed after the ${phase}`,
    () => `${seen.size} of ${partitions} markers seen; `,
  );
  const started = now();
  change();
  await producer.send({
    topic: TOPIC,
    messages: Array.from({ length: partitions }, (_, partition) => ({
      partition,
      value: `${MARKER_PREFIX}${phase}`,
    })),
  });
  await done;
  return now() - started;
}

/** One assignor: members join, then one more (the change measured), then one leaves. */
export async function rebalanceAtScale(options: {
  assignor: string;
  members: number;
  partitions: number;
  log(line: string): void;
}): Promise<RebalanceAtScaleResult[]> {
  const { assignor, members: total, partitions } = options;
  const broker = await startBroker({
    // At os durability the markers are not held up by 1,000 fsyncs: this bench times the group, not the disk.
    env: {
      BROKER_TOPICS: `${TOPIC}:${partitions}`,
      BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      BROKER_DURABILITY: 'os',
    },
  });
  const connection = new BrokerConnection({ broker: broker.address, clientId: 'rebalance-load' });
  const producer = new Producer(connection);
  const members = new MemberProcesses(broker, `rebalance-${assignor}`, assignor);
  let loading = true;
  // A steady load: 2,000 records/s spread over every partition.
  const load = (async () => {
    let sent = 0;
    while (loading) {
      await producer.send({
        topic: TOPIC,
        messages: Array.from({ length: 100 }, () => ({
          partition: sent++ % partitions,
          value: 'load',
        })),
      });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const results: RebalanceAtScaleResult[] = [];
  try {
    options.log(
      `rebalance: ${assignor}: ${total - 1} members joining on ${partitions} partitions ...`,
    );
    for (let index = 0; index < total - 1; index++) {
      members.send(index, { type: 'add', member: `m${index}` });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await members.until(
      () => (covering(members, partitions) ? true : undefined),
      120_000,
      `${total - 1} members to cover every partition`,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000)); // settle: the last generation's fetches under way

    const steadyMs = await markersConsumed(members, producer, partitions, 'steady', () => {});
    options.log(
      `rebalance: ${assignor}: with no change, every partition's marker consumed in ${Math.round(steadyMs)} ms`,
    );
    const measure = async (change: 'join' | 'leave', act: () => void) => {
      const before = new Map(members.owner);
      const pausesBefore = members.pauses.length;
      const revocationsBefore = members.revocations.length;
      const changedAt = performance.timeOrigin + performance.now();
      const consumingAgainMs = await markersConsumed(members, producer, partitions, change, act);
      await members.until(
        () => (covering(members, partitions) ? true : undefined),
        60_000,
        'the group to settle',
      );
      const moved = [...members.owner].filter(
        ([partition, owner]) => before.get(partition) !== owner,
      ).length;
      const keptSet = new Set(
        [...members.owner]
          .filter(([partition, owner]) => before.get(partition) === owner)
          .map(([partition]) => partition),
      );
      const revokedSince = members.revocations.slice(revocationsBefore);
      const pauses = members.pauses.slice(pausesBefore).map((pause) => pause.ms);
      results.push({
        assignor,
        steadyMs: Math.round(steadyMs),
        members: change === 'join' ? total : total - 1,
        partitions,
        change,
        assignedAgainMs: Math.round(members.lastJoinedAt - changedAt),
        consumingAgainMs: Math.round(consumingAgainMs),
        movedPartitions: moved,
        keptPartitions: keptSet.size,
        keptRevoked: new Set(
          revokedSince
            .filter((revocation) => keptSet.has(revocation.partition))
            .map((revocation) => revocation.partition),
        ).size,
        pauseP50Ms: Math.round(percentile(pauses, 50)),
        pauseP99Ms: Math.round(percentile(pauses, 99)),
      });
      options.log(
        `rebalance: ${assignor}: after the ${change}, every partition consumed again in ${Math.round(consumingAgainMs)} ms`,
      );
    };
    await measure('join', () => members.send(total - 1, { type: 'add', member: `m${total - 1}` }));
    await measure('leave', () => members.send(0, { type: 'leave', member: 'm0' }));
  } finally {
    loading = false;
    await load.catch(() => undefined);
    await members.stop();
    await producer.disconnect().catch(() => undefined);
    connection.close();
    await broker.stop();
    broker.cleanup();
  }
  return results;
}
