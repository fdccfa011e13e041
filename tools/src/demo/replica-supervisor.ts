import { byCodeUnits } from '@hospital/proto';
import type { ReplicaState, ReplicaView } from '@hospital/admin-api';
import { logEntry } from '@hospital/processes';

/** A started replica process, as the supervisor needs it. */
export interface ReplicaProcess {
  pid: number | undefined;
  /** Resolves with the signal or exit code once the process has ended. */
  exited: Promise<string>;
  /** SIGTERM and wait: the consumer leaves its group (a graceful leave). */
  stop(): Promise<string>;
  /** SIGKILL and wait: no LeaveGroup, as in a crash. */
  kill(): Promise<string>;
}

export interface SupervisedGroup {
  name: string;
  /** The HTTP port of replica `index` (1-based). */
  portOf(index: number): number;
  /** Starts replica `index` with the group's current settings, resolving once it is ready. */
  start(index: number, name: string, port: number, env: GroupSettings): Promise<ReplicaProcess>;
}

/** A request the supervisor cannot carry out; `status` is the HTTP status to answer with. */
export class SupervisorRefusal extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}

/** Settings a group's replicas start with (set from the dashboard: the assignors). */
export interface GroupSettings {
  /** GROUP_ASSIGNORS, in order of preference; undefined keeps the service's default. */
  assignors?: string[];
}

interface Replica {
  name: string;
  /** What its running process was started with. */
  settings: GroupSettings;
  group: SupervisedGroup;
  index: number;
  state: ReplicaState;
  process: ReplicaProcess | undefined;
  /** The start, stop or kill in progress, so commands on one replica run one after another. */
  busy: Promise<void>;
}

const LIVE: ReplicaState[] = ['starting', 'running'];

/**
 * Keeps the consumer groups' replica processes: scale a group to n, kill a
 * replica (SIGKILL), restart it. Commands return at once with the new
 * states; the processes start and stop in the background (watch `list()`,
 * or await `settled()`).
 */
export class ReplicaSupervisor {
  private readonly groups = new Map<string, SupervisedGroup>();
  private readonly replicas = new Map<string, Replica>();
  private readonly settings = new Map<string, GroupSettings>();
  /** Rolling restarts in progress, so `settled()` waits for them too. */
  private rolling: Promise<void> = Promise.resolve();

  constructor(
    groups: SupervisedGroup[],
    private readonly maxReplicas: number,
    private readonly log: (line: string) => void,
    initial: { [group: string]: GroupSettings } = {},
  ) {
    for (const group of groups) this.groups.set(group.name, group);
    for (const [group, settings] of Object.entries(initial)) this.settings.set(group, settings);
  }

  /**
   * Restarts the group's live replicas one at a time with these assignors,
   * each waiting for the one before to run again. The old first choice stays
   * listed second, so the replicas not yet restarted and the ones already
   * restarted always share a protocol: the group keeps the old assignor until
   * the last replica restarts, then votes for the new one, as Kafka's
   * rolling upgrade of partition.assignment.strategy does.
   */
  rollAssignors(groupName: string, assignors: string[], known: readonly string[]): ReplicaView[] {
    const group = this.group(groupName);
    if (assignors.length === 0 || assignors.some((name) => !known.includes(name)))
      throw new SupervisorRefusal(
        400,
        `assignors must name one or more of ${known.join(', ')}, got ${JSON.stringify(assignors)}`,
      );
    const current = this.settings.get(groupName)?.assignors ?? ['range'];
    const rolled = [...new Set([...assignors, current[0]])];
    this.settings.set(groupName, { ...this.settings.get(groupName), assignors: rolled });
    const live = [...this.replicas.values()]
      .filter((replica) => replica.group === group && LIVE.includes(replica.state))
      .sort((a, b) => a.index - b.index);
    this.log(`↻ ${groupName}: rolling ${live.length} replica(s) to assignors ${rolled.join(', ')}`);
    this.rolling = live.reduce(async (previous, replica) => {
      await previous;
      this.stop(replica);
      this.start(replica);
      await replica.busy;
    }, this.rolling);
    return this.list();
  }

  list(): ReplicaView[] {
    return [...this.replicas.values()]
      .sort((a, b) => byCodeUnits(a.group.name, b.group.name) || a.index - b.index)
      .map((replica) => ({
        name: replica.name,
        group: replica.group.name,
        state: replica.state,
        pid:
          LIVE.includes(replica.state) || replica.state === 'stopping'
            ? replica.process?.pid
            : undefined,
        port: replica.group.portOf(replica.index),
        assignors: replica.settings.assignors ?? ['range'],
      }));
  }

  /** Makes `count` replicas of the group live: restarts stopped ones first (lowest first), then adds; stops the newest when shrinking. */
  scale(groupName: string, count: number): ReplicaView[] {
    const group = this.group(groupName);
    if (!Number.isInteger(count) || count < 0 || count > this.maxReplicas)
      throw new SupervisorRefusal(
        400,
        `replicas must be a whole number from 0 to ${this.maxReplicas}`,
      );
    const ofGroup = [...this.replicas.values()]
      .filter((replica) => replica.group === group)
      .sort((a, b) => a.index - b.index);
    const live = ofGroup.filter((replica) => LIVE.includes(replica.state));
    if (live.length > count) for (const replica of live.slice(count)) this.stop(replica);
    let missing = count - live.length;
    for (let index = 1; missing > 0; index++) {
      const existing = ofGroup.find((replica) => replica.index === index);
      if (existing && LIVE.includes(existing.state)) continue;
      this.start(existing ?? this.add(group, index));
      missing--;
    }
    return this.list();
  }

  kill(name: string): ReplicaView[] {
    const replica = this.replica(name);
    if (!LIVE.includes(replica.state))
      throw new SupervisorRefusal(400, `${name} is ${replica.state}, not running`);
    this.run(replica, async () => {
      replica.state = 'killed';
      await replica.process?.kill();
      this.log(`✖ ${name} killed (SIGKILL)`);
    });
    replica.state = 'killed';
    return this.list();
  }

  /** Starts it again; a live replica is stopped gracefully first. */
  restart(name: string): ReplicaView[] {
    const replica = this.replica(name);
    if (LIVE.includes(replica.state)) this.stop(replica);
    this.start(replica);
    return this.list();
  }

  /** Resolves once no replica is starting or stopping. */
  async settled(): Promise<void> {
    await this.rolling;
    for (;;) {
      const pending = [...this.replicas.values()].map((replica) => replica.busy);
      await Promise.all(pending);
      if (
        [...this.replicas.values()].every(
          (replica) => !['starting', 'stopping'].includes(replica.state),
        )
      )
        return;
    }
  }

  /** Stops every replica gracefully. */
  async stopAll(): Promise<void> {
    for (const replica of this.replicas.values())
      if (LIVE.includes(replica.state)) this.stop(replica);
    await this.settled();
  }

  private group(name: string): SupervisedGroup {
    const group = this.groups.get(name);
    if (!group)
      throw new SupervisorRefusal(
        404,
        `no consumer group "${name}" here; there are ${[...this.groups.keys()].join(', ')}`,
      );
    return group;
  }

  private replica(name: string): Replica {
    const replica = this.replicas.get(name);
    if (!replica)
      throw new SupervisorRefusal(
        404,
        `no replica "${name}"; there are ${
          this.list()
            .map((view) => view.name)
            .join(', ') || 'none'
        }`,
      );
    return replica;
  }

  private add(group: SupervisedGroup, index: number): Replica {
    const replica: Replica = {
      name: `${group.name}-${index}`,
      group,
      index,
      settings: {},
      state: 'stopped',
      process: undefined,
      busy: Promise.resolve(),
    };
    this.replicas.set(replica.name, replica);
    return replica;
  }

  private start(replica: Replica): void {
    replica.state = 'starting';
    this.run(replica, async () => {
      replica.state = 'starting';
      replica.process = undefined;
      const port = replica.group.portOf(replica.index);
      const settings = { ...this.settings.get(replica.group.name) };
      try {
        const process = await replica.group.start(replica.index, replica.name, port, settings);
        replica.settings = settings;
        replica.process = process;
        replica.state = 'running';
        this.log(`✔ ${replica.name} running (pid ${process.pid}, http://127.0.0.1:${port})`);
        void process.exited.then((how) => {
          if (replica.process !== process || replica.state !== 'running') return;
          replica.state = 'exited';
          this.log(`✖ ${replica.name} exited by itself (${how})`);
        });
      } catch (error) {
        replica.state = 'exited';
        this.log(`✖ ${replica.name} failed to start: ${whyNotStarted(error as Error)}`);
      }
    });
  }

  private stop(replica: Replica): void {
    replica.state = 'stopping';
    this.run(replica, async () => {
      replica.state = 'stopping';
      await replica.process?.stop();
      replica.state = 'stopped';
      this.log(`■ ${replica.name} stopped (left its group)`);
    });
  }

  /** Queues work on one replica behind whatever it is doing. */
  private run(replica: Replica, work: () => Promise<void>): void {
    replica.busy = replica.busy.then(work, work);
  }
}

/**
 * One line for a replica that did not start: the failure, and when the
 * process printed why (its last error log line, or its last line), that too.
 */
export function whyNotStarted(error: Error): string {
  const [first, ...printed] = error.message.split('\n').filter((line) => line.trim() !== '');
  const lines = printed.map((line) => ({ line, entry: logEntry(line) }));
  const logged = lines.filter(({ entry }) => (entry?.level ?? 0) >= 50).at(-1);
  const said = logged
    ? [logged.entry?.msg, logged.entry?.err?.message].filter(Boolean).join(': ')
    : lines.at(-1)?.line.trim();
  return said ? `${first.replace(/:$/, '')} (${said})` : first;
}
