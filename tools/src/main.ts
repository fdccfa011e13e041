#!/usr/bin/env node
// The `hospital` CLI. Step 6 adds topics, groups, scale, kill and scenario.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  groupsCommand,
  topicsCommand,
  UsageError,
  type CommandContext,
} from './cli/admin-commands';
import { dbCommand } from './cli/db-command';
import { replicaCommand } from './cli/replica-commands';
import { ADMIN_TOKEN_FILE, runDemo } from './demo/run-demo';
import { scenarioCommand } from './scenarios/scenario-command';

const USAGE = `usage: hospital <command> [options]

commands:
  demo [--fresh] [--rate <n>]   run the whole hospital here: Postgres, broker, checkout
                                with its simulator, billing x2, housekeeping x2, pharmacy x1
                                --fresh    wipe the demo's data (.hospital/) first
                                --rate n   simulated checkouts per second (default 20)
  topics list | describe <topic> | create <topic> --partitions N | add-partitions <topic> --partitions N
  groups list | describe <group>
  groups history <group>        the group's recent rebalances, each as its numbered protocol
                                messages (JoinGroup, SyncGroup with the leader's assignment, ...)
  groups reset-offsets <group> --topic T (--to-earliest | --to-latest | --to-offset N | --to-datetime T) [--dry-run]

  replicas                      the demo's consumer replicas: state, pid, HTTP port
  scale <group> <n>             run n replicas of billing, housekeeping or pharmacy (stops the
                                newest gracefully when shrinking); waits unless --no-wait
  kill <member>                 SIGKILL a replica (billing-2, or a member id from groups describe):
                                no LeaveGroup, so the group rebalances after the session timeout
  restart <replica>             start a killed or stopped replica again (stops it first if running)

  scenario list | <name> [--broker host:port] [--database-url url] [--kafkajs [--kafka host:port]] [--json]
                                run one of the source material's experiments and check its outcome
                                (on a broker of its own unless --broker is given; effectively-once
                                also starts a Postgres of its own unless given --database-url)

  db bootstrap                  create the services' schemas and roles (DATABASE_ADMIN_URL,
                                BILLING_DB_PASSWORD, HOUSEKEEPING_DB_PASSWORD, PHARMACY_DB_PASSWORD)

options of topics and groups:
  --broker host:port     the broker (default BROKER_ADDRESS, else 127.0.0.1:9092)
  --admin-token token    for admin calls (default BROKER_ADMIN_TOKEN, else the demo's)
  --json                 print JSON instead of a table
  --control url          the demo's replica supervisor (default HOSPITAL_CONTROL_URL, else
                         http://127.0.0.1:9094), for replicas, scale, kill and restart
`;

const STATE_DIR = join(__dirname, '..', '..', '.hospital');

function fail(message: string): never {
  process.stderr.write(`hospital: ${message}\n\n${USAGE}`);
  process.exit(2);
}

async function demo(args: string[]): Promise<void> {
  let values: { fresh?: boolean; rate?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { fresh: { type: 'boolean' }, rate: { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  const rate = Number(values.rate ?? 20);
  if (!Number.isFinite(rate) || rate < 0)
    fail(`--rate must be a number >= 0, got "${values.rate}"`);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log('Starting the hospital (Ctrl-C stops it) ...');
  const running = await runDemo({
    stateDir: STATE_DIR,
    fresh: values.fresh ?? false,
    rate,
    replicas: { billing: 2, housekeeping: 2, pharmacy: 1 },
    log,
  });
  log(`
The hospital is running.
  dashboard:         ${running.dashboardUrl}/?token=${running.adminToken}
                     (the token unlocks its scale, kill and restart buttons)
  checkout:          POST http://127.0.0.1:3000/checkouts (body: services/checkout/README.md)
  billing metrics:   http://127.0.0.1:3100/metrics   (replica 2 on :3101)
  housekeeping:      http://127.0.0.1:3200/metrics   (replica 2 on :3201)
  pharmacy:          http://127.0.0.1:3300/metrics
  broker (gRPC):     127.0.0.1:9092
  broker (Kafka):    127.0.0.1:9093   (KafkaJS, kcat, any Kafka client; admin: SASL/PLAIN, password = the token)
  data:              ${STATE_DIR}

Try: node tools/dist/main.js groups describe billing
     node tools/dist/main.js scale billing 4
     node tools/dist/main.js kill billing-1
     kcat -b 127.0.0.1:9093 -L
`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    log('Stopping ...');
    running.stop().then(
      () => {
        log('Stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`hospital: stopping failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

const context: CommandContext = {
  defaultAdminToken: () => {
    if (process.env.BROKER_ADMIN_TOKEN) return process.env.BROKER_ADMIN_TOKEN;
    const file = join(STATE_DIR, ADMIN_TOKEN_FILE);
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  },
  out: (text) => process.stdout.write(`${text}\n`),
};

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'demo':
      return demo(rest);
    case 'topics':
      return topicsCommand(rest, context);
    case 'groups':
      return groupsCommand(rest, context);
    case 'scenario':
      return scenarioCommand(rest, context);
    case 'replicas':
    case 'scale':
    case 'kill':
    case 'restart':
      return replicaCommand(command, rest, context);
    case 'db':
      return dbCommand(rest, context);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      if (command === undefined) process.exit(2);
      return;
    default:
      fail(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) fail(error.message);
  process.stderr.write(`hospital: ${(error as Error).message}\n`);
  process.exit(1);
});
