import { parseArgs } from 'node:util';
import type { ReplicasAnswer, ReplicaView, SupervisorError } from '@hospital/admin-api';
import {
  COMMON,
  parsed,
  print,
  UsageError,
  withAdmin,
  type CommandContext,
} from './admin-commands';
import { formatTable } from './table';

/** Where `hospital demo` serves its replica supervisor unless told otherwise. */
export const DEFAULT_CONTROL_URL = 'http://127.0.0.1:9094';

const OPTIONS = {
  ...COMMON,
  control: { type: 'string' },
  'no-wait': { type: 'boolean' },
} as const;

const SETTLE_TIMEOUT_MS = 90_000;

/** The supervisor's API as the CLI uses it; its refusals and absence become readable errors. */
class SupervisorApi {
  constructor(
    private readonly url: string,
    private readonly adminToken: string | undefined,
  ) {}

  async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ReplicaView[]> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.adminToken ?? ''}`,
          'content-type': 'application/json',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      throw new Error(
        `no demo answers at ${this.url}: start one with \`npm start\` (or pass --control <url>)`,
      );
    }
    const answer = (await response.json().catch(() => ({ error: response.statusText }))) as
      ReplicasAnswer | SupervisorError;
    if (!response.ok || !('replicas' in answer))
      throw new Error(
        'error' in answer ? answer.error : `the supervisor answered ${response.status}`,
      );
    return answer.replicas;
  }

  /** Polls until none of these replicas is starting or stopping, reporting each change. */
  async settled(names: Set<string>, report: (line: string) => void): Promise<ReplicaView[]> {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    const seen = new Map<string, string>();
    for (;;) {
      const replicas = await this.call('GET', '/replicas');
      const watched = replicas.filter((replica) => names.has(replica.name));
      for (const replica of watched) {
        if (seen.get(replica.name) !== replica.state) report(`  ${replica.name}: ${replica.state}`);
        seen.set(replica.name, replica.state);
      }
      if (watched.every((replica) => replica.state !== 'starting' && replica.state !== 'stopping'))
        return replicas;
      if (Date.now() > deadline)
        throw new Error(`replicas still starting or stopping after ${SETTLE_TIMEOUT_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

function table(replicas: ReplicaView[]): string {
  return formatTable(
    replicas.map((replica) => ({
      replica: replica.name,
      group: replica.group,
      state: replica.state,
      pid: replica.pid ?? '',
      'http-port': replica.port,
    })),
  );
}

function api(values: { control?: string; 'admin-token'?: string }, context: CommandContext) {
  return new SupervisorApi(
    values.control ?? process.env.HOSPITAL_CONTROL_URL ?? DEFAULT_CONTROL_URL,
    values['admin-token'] ?? context.defaultAdminToken(),
  );
}

/**
 * `hospital replicas`, `scale <group> <n>`, `kill <member>`, `restart <replica>`:
 * the demo's consumer replicas, through its supervisor.
 */
export async function replicaCommand(
  command: 'replicas' | 'scale' | 'kill' | 'restart',
  args: string[],
  context: CommandContext,
): Promise<void> {
  const { values, positionals } = parsed(() =>
    parseArgs({ args, options: OPTIONS, allowPositionals: true }),
  );
  const supervisor = api(values, context);
  const finish = async (changed: ReplicaView[], names: Set<string>) => {
    const replicas = values['no-wait'] ? changed : await supervisor.settled(names, context.out);
    print(context, values.json, replicas, () => table(replicas));
  };
  switch (command) {
    case 'replicas': {
      const replicas = await supervisor.call('GET', '/replicas');
      return print(context, values.json, replicas, () => table(replicas));
    }
    case 'scale': {
      const [group, count] = positionals;
      const replicas = Number(count);
      if (!group || count === undefined || !Number.isInteger(replicas) || replicas < 0)
        throw new UsageError('scale needs a group and a whole number of replicas: scale billing 4');
      const changed = await supervisor.call('POST', `/groups/${encodeURIComponent(group)}/scale`, {
        replicas,
      });
      return finish(
        changed,
        new Set(
          changed.filter((replica) => replica.group === group).map((replica) => replica.name),
        ),
      );
    }
    case 'kill':
    case 'restart': {
      const [given] = positionals;
      if (!given)
        throw new UsageError(`${command} needs a replica name (billing-2) or a member id`);
      const name = command === 'kill' ? await replicaOfMember(given, values, context) : given;
      const changed = await supervisor.call(
        'POST',
        `/replicas/${encodeURIComponent(name)}/${command}`,
      );
      return finish(changed, new Set([name]));
    }
  }
}

/**
 * `kill` takes what `groups describe` prints: a replica name (its client id)
 * or a member id, which the broker maps to its client id.
 */
async function replicaOfMember(
  given: string,
  values: { broker?: string; 'admin-token'?: string },
  context: CommandContext,
): Promise<string> {
  if (/^[a-z]+-\d+$/.test(given)) return given;
  return withAdmin(values, context, async (admin) => {
    for (const listing of await admin.listGroups()) {
      const group = await admin.describeGroup(listing.groupId);
      const member = group.members.find((candidate) => candidate.memberId === given);
      if (member) return member.clientId;
    }
    throw new Error(`no member "${given}" in any group (groups describe <group> lists them)`);
  });
}
