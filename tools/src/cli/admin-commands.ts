import { parseArgs } from 'node:util';
import { Admin, BrokerConnection, type ResetTarget } from '@hospital/broker-client';
import { groupStateLabel } from '@hospital/proto';
import { formatSequence, groupHistoryView } from '@hospital/admin-api';
import { formatTable } from './table';

/** A bad command line: the CLI prints the message and its usage, and exits 2. */
export class UsageError extends Error {}

export interface CommandContext {
  /** The admin token when not given: BROKER_ADMIN_TOKEN, or the one the demo wrote. */
  defaultAdminToken(): string | undefined;
  out(text: string): void;
}

export const COMMON = {
  broker: { type: 'string' },
  'admin-token': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Runs node's parseArgs, turning its complaints into usage errors. */
export function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function positive(value: string | undefined, flag: string): number {
  const number = Number(value);
  if (value === undefined || !Number.isInteger(number) || number < 1)
    throw new UsageError(`${flag} must be a whole number >= 1, got "${value ?? ''}"`);
  return number;
}

export async function withAdmin<T>(
  values: { broker?: string; 'admin-token'?: string },
  context: CommandContext,
  run: (admin: Admin) => Promise<T>,
): Promise<T> {
  const connection = new BrokerConnection({
    broker: values.broker ?? process.env.BROKER_ADDRESS ?? '127.0.0.1:9092',
    clientId: 'hospital-cli',
    adminToken: values['admin-token'] ?? context.defaultAdminToken(),
  });
  try {
    return await run(
      new Admin(connection, { retries: 1, initialBackoffMs: 100, maxBackoffMs: 200 }),
    );
  } finally {
    connection.close();
  }
}

export function print(
  context: CommandContext,
  json: boolean | undefined,
  value: unknown,
  table: () => string,
): void {
  context.out(json ? JSON.stringify(value, null, 2) : table());
}

/** `hospital topics list|describe|create|add-partitions`. */
export async function topicsCommand(args: string[], context: CommandContext): Promise<void> {
  const [action, ...rest] = args;
  const { values, positionals } = parsed(() =>
    parseArgs({
      args: rest,
      options: { ...COMMON, partitions: { type: 'string' } },
      allowPositionals: true,
    }),
  );
  const name = positionals[0];
  const needName = () => {
    if (!name) throw new UsageError(`topics ${action} needs a topic name`);
    return name;
  };
  switch (action) {
    case 'list':
      return withAdmin(values, context, async (admin) => {
        const topics = await admin.listTopics(true);
        print(context, values.json, topics, () =>
          formatTable(
            topics.map((topic) => ({
              topic: topic.name,
              partitions: topic.partitions,
              internal: topic.internal ? 'yes' : '',
            })),
          ),
        );
      });
    case 'describe':
      return withAdmin(values, context, async (admin) => {
        const topic = await admin.describeTopic(needName());
        print(context, values.json, topic, () =>
          formatTable(
            topic.partitions.map((partition) => ({
              topic: topic.name,
              partition: partition.partition,
              'log-start-offset': partition.logStartOffset,
              'log-end-offset': partition.logEndOffset,
              'size-bytes': partition.sizeBytes,
              segments: partition.segmentCount,
            })),
          ),
        );
      });
    case 'create':
    case 'add-partitions': {
      const topicName = needName();
      const partitions = positive(values.partitions, '--partitions');
      return withAdmin(values, context, async (admin) => {
        const topic =
          action === 'create'
            ? await admin.createTopic({ topic: topicName, partitions })
            : await admin.createPartitions(topicName, partitions);
        print(
          context,
          values.json,
          topic,
          () =>
            `${action === 'create' ? 'created' : 'now'} ${topic.name}: ${topic.partitions.length} partitions`,
        );
      });
    }
    default:
      throw new UsageError(action ? `unknown topics action "${action}"` : 'topics needs an action');
  }
}

function resetTarget(values: {
  'to-earliest'?: boolean;
  'to-latest'?: boolean;
  'to-offset'?: string;
  'to-datetime'?: string;
}): ResetTarget {
  const chosen = (['to-earliest', 'to-latest', 'to-offset', 'to-datetime'] as const).filter(
    (flag) => values[flag] !== undefined,
  );
  if (chosen.length !== 1)
    throw new UsageError(
      'reset-offsets needs exactly one of --to-earliest, --to-latest, --to-offset N, --to-datetime T',
    );
  if (values['to-earliest']) return { earliest: true };
  if (values['to-latest']) return { latest: true };
  if (values['to-offset'] !== undefined) {
    const offset = Number(values['to-offset']);
    if (!Number.isInteger(offset) || offset < 0)
      throw new UsageError(`--to-offset must be a whole number >= 0, got "${values['to-offset']}"`);
    return { offset };
  }
  const at = Date.parse(values['to-datetime'] ?? '');
  if (Number.isNaN(at))
    throw new UsageError(
      `--to-datetime must be a date and time such as 2026-11-22T10:00:00Z, got "${values['to-datetime']}"`,
    );
  return { timestampMs: at };
}

/** `hospital groups list|describe|history|reset-offsets`. */
export async function groupsCommand(args: string[], context: CommandContext): Promise<void> {
  const [action, ...rest] = args;
  const { values, positionals } = parsed(() =>
    parseArgs({
      args: rest,
      options: {
        ...COMMON,
        topic: { type: 'string' },
        'to-earliest': { type: 'boolean' },
        'to-latest': { type: 'boolean' },
        'to-offset': { type: 'string' },
        'to-datetime': { type: 'string' },
        'dry-run': { type: 'boolean' },
      },
      allowPositionals: true,
    }),
  );
  const group = positionals[0];
  const needGroup = () => {
    if (!group) throw new UsageError(`groups ${action} needs a group id`);
    return group;
  };
  switch (action) {
    case 'list':
      return withAdmin(values, context, async (admin) => {
        const groups = await admin.listGroups();
        print(context, values.json, groups, () =>
          formatTable(
            groups.map((listing) => ({
              group: listing.groupId,
              state: groupStateLabel(listing.state),
              members: listing.members,
            })),
          ),
        );
      });
    case 'describe':
      return withAdmin(values, context, async (admin) => {
        const described = await admin.describeGroup(needGroup());
        const members = new Map(described.members.map((member) => [member.memberId, member]));
        const rows = described.offsets.map((offset) => {
          const owner = members.get(offset.ownerMemberId);
          return {
            topic: offset.topic,
            partition: offset.partition,
            'current-offset': offset.committedOffset < 0 ? '-' : offset.committedOffset,
            'log-end-offset': offset.logEndOffset,
            lag: offset.lag,
            'consumer-id': offset.ownerMemberId || '-',
            host: owner?.host || '-',
            'client-id': owner?.clientId || '-',
          };
        });
        print(context, values.json, described, () => {
          const idle = described.members.filter((member) => member.idle);
          const header =
            `group ${described.groupId}: ${groupStateLabel(described.state)}, generation ${described.generationId}, ` +
            `${described.members.length} member(s), leader ${described.leader || '-'}` +
            (idle.length > 0 ? `, idle: ${idle.map((member) => member.memberId).join(', ')}` : '');
          return `${header}\n\n${formatTable(rows)}`;
        });
      });
    case 'history':
      return withAdmin(values, context, async (admin) => {
        const groupId = needGroup();
        const history = groupHistoryView(groupId, await admin.groupHistory(groupId));
        print(context, values.json, history, () =>
          history.sequences.length === 0
            ? `group ${groupId}: no rebalance recorded since the broker started`
            : history.sequences.map((sequence) => formatSequence(sequence).join('\n')).join('\n\n'),
        );
      });
    case 'reset-offsets': {
      const groupId = needGroup();
      if (!values.topic) throw new UsageError('reset-offsets needs --topic');
      const topic = values.topic;
      const target = resetTarget(values);
      return withAdmin(values, context, async (admin) => {
        const changes = await admin.resetOffsets(groupId, topic, target, {
          dryRun: values['dry-run'] ?? false,
        });
        print(
          context,
          values.json,
          changes,
          () =>
            formatTable(
              changes.map((change) => ({
                topic: change.topic,
                partition: change.partition,
                'previous-offset': change.previousOffset < 0 ? '-' : change.previousOffset,
                'new-offset': change.newOffset,
              })),
            ) + (values['dry-run'] ? '\n(dry run: nothing changed)' : ''),
        );
      });
    }
    default:
      throw new UsageError(action ? `unknown groups action "${action}"` : 'groups needs an action');
  }
}
