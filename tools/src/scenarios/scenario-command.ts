import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startBroker, startEmbeddedPostgres } from '@hospital/processes';
import { UsageError, type CommandContext } from '../cli/admin-commands';
import { GROUP_SCENARIO_NAMES, runScenario, SCENARIOS } from './scenarios';

/**
 * `hospital scenario list | <name> [--kafkajs [host:port]]`: exits 1 when the
 * expected outcome did not happen. `--kafkajs` runs a group scenario's
 * members as KafkaJS consumers over the broker's Kafka listener.
 */
export async function scenarioCommand(args: string[], context: CommandContext): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args,
      options: {
        broker: { type: 'string' },
        'admin-token': { type: 'string' },
        'database-url': { type: 'string' },
        json: { type: 'boolean' },
        kafkajs: { type: 'boolean' },
        kafka: { type: 'string' },
      },
      allowPositionals: true,
    });
  try {
    parsed = parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [name] = positionals;
  if (name === 'list' || name === undefined) {
    if (name === undefined) throw new UsageError('scenario needs a name (or list)');
    for (const [key, scenario] of Object.entries(SCENARIOS))
      context.out(`${key.padEnd(18)} ${scenario.description}`);
    return;
  }
  if (!(name in SCENARIOS))
    throw new UsageError(
      `unknown scenario "${name}"; choose from ${Object.keys(SCENARIOS).join(', ')}`,
    );
  const kafka = values.kafkajs || values.kafka !== undefined;
  if (kafka && !GROUP_SCENARIO_NAMES.includes(name))
    throw new UsageError(
      `--kafkajs runs the group scenarios (${GROUP_SCENARIO_NAMES.join(', ')}); ${name} is about the broker's own client`,
    );
  if (values.broker && values.kafkajs && values.kafka === undefined)
    throw new UsageError('with --broker, say where its Kafka listener is: --kafka host:port');
  const token =
    values['admin-token'] ??
    (values.broker ? context.defaultAdminToken() : randomBytes(8).toString('hex'));
  const broker = values.broker
    ? undefined
    : await startBroker({
        env: {
          BROKER_ADMIN_TOKEN: token,
          BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '300',
          BROKER_KAFKA_PORT: '0',
        },
      });
  // Only effectively-once stores rows: it gets the given server, else one of its own.
  const givenDatabase = values['database-url'] ?? process.env.DATABASE_ADMIN_URL;
  const postgres =
    SCENARIOS[name].database && !givenDatabase ? await startEmbeddedPostgres() : undefined;
  try {
    const report = await runScenario(name, {
      broker: values.broker ?? (broker?.address as string),
      adminToken: token,
      databaseUrl: givenDatabase ?? postgres?.url,
      kafkaBrokers: kafka ? (values.kafka ?? broker?.kafkaAddress) : undefined,
      log: values.json ? () => {} : context.out,
    });
    if (values.json) context.out(JSON.stringify(report, null, 2));
    if (report.failures.length > 0) {
      process.exitCode = 1;
      context.out(`scenario ${name}: FAILED (${report.failures.join('; ')})`);
    } else if (!values.json) context.out(`scenario ${name}: passed`);
  } finally {
    await broker?.stop();
    broker?.cleanup();
    await postgres?.stop();
  }
}
