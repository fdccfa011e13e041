// __consumer_offsets under a commit storm: 1,000,000 offset commits from 3
// groups on a 12-partition topic, in-process (no network), then a restart.
// Once with the log cleaner as configured, once as before it existed (no
// cleaner, 64 MiB segments). Prints one JSON line per case; run by `npm run bench`.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Broker } from '../broker';
import { loadBrokerConfig } from '../config/broker-config';
import { OFFSETS_TOPIC } from '../coordinator/runtime/coordinator-log';

const COMMITS = Number(process.env.BENCH_OFFSET_COMMITS ?? 1_000_000);
const GROUPS = 3;
const PARTITIONS = 12;
const IN_FLIGHT_PER_GROUP = 16;

interface CaseResult {
  case: string;
  commits: number;
  commitsPerSec: number;
  peakBytes: number;
  finalBytes: number;
  records: number;
  restartMs: number;
  loadMs: number;
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? bytesUnder(path) : statSync(path).size;
  }
  return total;
}

async function runCase(
  name: string,
  env: NodeJS.ProcessEnv,
  cleaner: boolean,
): Promise<CaseResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'offsets-bench-'));
  const config = loadBrokerConfig({
    BROKER_DATA_DIR: dataDir,
    BROKER_TOPICS: `bench.topic:${PARTITIONS}`,
    ...env,
  });
  const offsetsDir = join(dataDir, 'topics', OFFSETS_TOPIC);
  const broker = new Broker(config, pino({ level: 'silent' }));
  broker.start();
  const keepAlive = setInterval(() => {}, 1_000);
  let peakBytes = 0;
  const sampler = setInterval(() => (peakBytes = Math.max(peakBytes, bytesUnder(offsetsDir))), 250);
  try {
    const requests = Math.ceil(COMMITS / PARTITIONS);
    let sent = 0;
    const started = process.hrtime.bigint();
    const committer = async (group: number) => {
      while (sent < requests) {
        const round = sent++;
        await broker.coordinator.commitOffsets({
          groupId: `bench-group-${group}`,
          generationId: -1,
          memberId: '',
          groupInstanceId: undefined,
          topics: [
            {
              name: 'bench.topic',
              partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({
                partition,
                committedOffset: round,
                metadata: '',
              })),
            },
          ],
        });
      }
    };
    await Promise.all(
      Array.from({ length: GROUPS * IN_FLIGHT_PER_GROUP }, (_, index) => committer(index % GROUPS)),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (cleaner) await broker.cleaner.runOnce(); // what the last pass left dirty
    clearInterval(sampler);
    peakBytes = Math.max(peakBytes, bytesUnder(offsetsDir));
    await broker.close();
    const finalBytes = bytesUnder(offsetsDir);

    const restarted = new Broker(config, pino({ level: 'silent' }));
    restarted.start();
    const { openMs, loadMs, records } = restarted.startup;
    await restarted.close();
    return {
      case: name,
      commits: requests * PARTITIONS,
      commitsPerSec: Math.round((requests * PARTITIONS) / seconds),
      peakBytes,
      finalBytes,
      records,
      restartMs: Number((openMs + loadMs).toFixed(1)),
      loadMs: Number(loadMs.toFixed(1)),
    };
  } finally {
    clearInterval(sampler);
    clearInterval(keepAlive);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const cleaned = await runCase(
    'log cleaner (4 MiB segments, a pass at every closed segment)',
    {},
    true,
  );
  process.stdout.write(`${JSON.stringify(cleaned)}\n`);
  const before = await runCase(
    'no cleaner (as before Step 11: 64 MiB segments)',
    {
      BROKER_OFFSETS_SEGMENT_BYTES: String(64 * 1024 * 1024),
      BROKER_LOG_CLEANER_INTERVAL_MS: String(2 ** 31 - 1),
    },
    false,
  );
  process.stdout.write(`${JSON.stringify(before)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`offsets bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
