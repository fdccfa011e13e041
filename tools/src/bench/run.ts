import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { compareChart, compareRatios, compareSystems, type SystemResult } from './compare-bench';
import { eagerPauses, rebalanceTimeline, timelineChart } from './rebalance-timeline';
import { rebalanceAtScale, type RebalanceAtScaleResult } from './rebalance-scale';
import { runBrokerCase, type BrokerBenchCase, type BrokerBenchResult } from './broker-bench';
import {
  measureLatency,
  measureThroughput,
  type LatencyResult,
  type ThroughputResult,
} from './services-bench';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const RECORDS = Number(process.env.BENCH_RECORDS ?? 200_000);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const RESULTS_DIR = join(__dirname, '..', '..', '..', 'bench', 'results');
const machine = () => ({
  cpus: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
});

function writeResults(name: string, results: unknown, runs = RUNS): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), runs, results }, null, 2)}\n`,
  );
  console.log(`wrote ${file}`);
}

/** Runs one of the broker's in-process bench scripts (built in its dist/bench) and reads its JSON lines. */
function runBrokerBenchScript<T>(name: string, env: NodeJS.ProcessEnv = {}): T[] {
  const script = join(__dirname, '../../../services/broker/dist/bench', name);
  const output = execFileSync(process.execPath, [script], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return output
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as T);
}

/** Join-to-stable time of the group coordinator, measured inside a broker process. */
function coordinatorSuite(): void {
  console.error(
    'coordinator: join to stable, 4 members / 4 partitions and 100 members / 1,000 partitions ...',
  );
  const results = runBrokerBenchScript<{
    members: number;
    partitions: number;
    medianMs: number;
    p90Ms: number;
    runs: number;
  }>('coordinator-bench.js', { BENCH_RUNS: String(Math.max(RUNS, 5)) });
  console.log(
    '\nGroup coordinator, first JoinGroup to Stable with every SyncGroup answered, initial delay 0, broker side\n',
  );
  console.table(
    results.map((result) => ({
      members: result.members,
      partitions: result.partitions,
      'median ms': result.medianMs,
      'p90 ms': result.p90Ms,
      runs: result.runs,
    })),
  );
  writeResults('coordinator', results);
}

/** __consumer_offsets after 1,000,000 commits: its size on disk and the restart replay, with and without the cleaner. */
function offsetsSuite(): void {
  console.error(
    'offsets: 1,000,000 offset commits from 3 groups on 12 partitions, then a restart, with and without the log cleaner ...',
  );
  const results = runBrokerBenchScript<{
    case: string;
    commits: number;
    commitsPerSec: number;
    peakBytes: number;
    finalBytes: number;
    records: number;
    restartMs: number;
    loadMs: number;
  }>('offsets-bench.js');
  const mib = (bytes: number) => Number((bytes / 2 ** 20).toFixed(1));
  console.log(
    '\n__consumer_offsets under 1,000,000 commits (3 groups x 12 partitions, in-process), then a restart\n',
  );
  console.table(
    results.map((result) => ({
      case: result.case,
      'commits/s': result.commitsPerSec,
      'peak MiB on disk': mib(result.peakBytes),
      'final MiB on disk': mib(result.finalBytes),
      'records replayed': result.records,
      'restart ms': result.restartMs,
      'replay ms': result.loadMs,
    })),
  );
  writeResults('offsets', results, 1);
}

async function brokerSuite(): Promise<void> {
  const cases: BrokerBenchCase[] = [
    {
      partitions: 1,
      records: RECORDS,
      recordBytes: 300,
      batchRecords: 500,
      durability: 'fsync',
      inFlightPerPartition: 5,
    },
    {
      partitions: 4,
      records: RECORDS,
      recordBytes: 300,
      batchRecords: 500,
      durability: 'fsync',
      inFlightPerPartition: 5,
    },
    {
      partitions: 4,
      records: RECORDS,
      recordBytes: 300,
      batchRecords: 500,
      durability: 'os',
      inFlightPerPartition: 5,
    },
  ];
  const medians: BrokerBenchResult[] = [];
  for (const benchCase of cases) {
    const runs: BrokerBenchResult[] = [];
    for (let run = 1; run <= RUNS; run++) {
      console.error(
        `broker: ${benchCase.partitions} partition(s), durability ${benchCase.durability}, run ${run}/${RUNS} ...`,
      );
      runs.push(await runBrokerCase(benchCase, await freePort()));
    }
    const pick = (field: keyof BrokerBenchResult) =>
      median(runs.map((run) => run[field] as number));
    medians.push({
      ...benchCase,
      produceRecordsPerSec: pick('produceRecordsPerSec'),
      produceMBPerSec: pick('produceMBPerSec'),
      fetchRecordsPerSec: pick('fetchRecordsPerSec'),
      fetchMBPerSec: pick('fetchMBPerSec'),
      peakRssMB: pick('peakRssMB'),
    });
  }
  console.log(
    '\nBroker over gRPC, 300-byte records in batches of 500, acks=all, 5 requests in flight per partition (medians of %d runs)\n',
    RUNS,
  );
  console.table(
    medians.map((result) => ({
      partitions: result.partitions,
      durability: result.durability,
      'produce rec/s': result.produceRecordsPerSec,
      'produce MB/s': result.produceMBPerSec,
      'fetch rec/s': result.fetchRecordsPerSec,
      'fetch MB/s': result.fetchMBPerSec,
      'broker peak RSS MB': result.peakRssMB,
    })),
  );
  writeResults('broker', medians);
}

/** Each process's median across runs. */
function medianPerProcess(runs: { [process: string]: number }[]): { [process: string]: number } {
  return Object.fromEntries(
    Object.keys(runs[0]).map((name) => [name, median(runs.map((run) => run[name] ?? 0))]),
  );
}

const SERVICE_CHECKOUTS = Number(process.env.BENCH_SERVICE_CHECKOUTS ?? 50_000);
/** Steady POST rates for the latency runs; each lasts BENCH_LATENCY_SECONDS. */
const LATENCY_RATES = (process.env.BENCH_LATENCY_RATES ?? '1000').split(',').map(Number);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);

/** The hospital services: upsert throughput per consumer group, end-to-end latency at a steady rate. */
async function servicesSuite(): Promise<void> {
  const progress = (message: string) => console.error(message);
  const throughputRuns: ThroughputResult[][] = [];
  for (let run = 1; run <= RUNS; run++) {
    progress(`services: throughput run ${run}/${RUNS}`);
    throughputRuns.push(await measureThroughput(SERVICE_CHECKOUTS, progress));
  }
  const throughput = throughputRuns[0].map((first) => ({
    ...first,
    checkoutsPerSec: median(
      throughputRuns.map(
        (run) => run.find((result) => result.group === first.group)?.checkoutsPerSec ?? 0,
      ),
    ),
  }));
  const latency: LatencyResult[] = [];
  for (const rate of LATENCY_RATES) {
    const runs: LatencyResult[] = [];
    for (let run = 1; run <= RUNS; run++) {
      progress(`services: latency at ${rate}/s, run ${run}/${RUNS}`);
      runs.push(await measureLatency(rate, rate * LATENCY_SECONDS, progress));
    }
    const pick = (
      field: 'p50Ms' | 'p90Ms' | 'p99Ms' | 'maxMs' | 'acceptedP50Ms' | 'acceptedP99Ms',
    ) => median(runs.map((result) => result[field]));
    latency.push({
      ratePerSec: rate,
      checkouts: rate * LATENCY_SECONDS,
      p50Ms: pick('p50Ms'),
      p90Ms: pick('p90Ms'),
      p99Ms: pick('p99Ms'),
      maxMs: pick('maxMs'),
      acceptedP50Ms: pick('acceptedP50Ms'),
      acceptedP99Ms: pick('acceptedP99Ms'),
      cpuPercent: medianPerProcess(runs.map((result) => result.cpuPercent)),
      cpuMsPerCheckout: medianPerProcess(runs.map((result) => result.cpuMsPerCheckout)),
    });
  }
  console.log(
    '\nConsumer groups, one replica alone, batched upserts with the offset in the same transaction (medians of %d runs)\n',
    RUNS,
  );
  console.table(
    throughput.map((result) => ({
      group: result.group,
      checkouts: result.checkouts,
      'upserted checkouts/s': result.checkoutsPerSec,
    })),
  );
  console.log(
    '\nEnd to end, POST /checkouts to the billing invoice committed, all services running (medians of %d runs)\n',
    RUNS,
  );
  console.table(
    latency.map((result) => ({
      'rate/s': result.ratePerSec,
      checkouts: result.checkouts,
      'p50 ms': result.p50Ms,
      'p90 ms': result.p90Ms,
      'p99 ms': result.p99Ms,
      'max ms': result.maxMs,
      '202 p50 ms': result.acceptedP50Ms,
      '202 p99 ms': result.acceptedP99Ms,
    })),
  );
  console.log('\nCPU while posting, % of one core (2 cores in all)\n');
  console.table(latency.map((result) => ({ 'rate/s': result.ratePerSec, ...result.cpuPercent })));
  console.log('\nCPU milliseconds per checkout, per process\n');
  console.table(
    latency.map((result) => ({ 'rate/s': result.ratePerSec, ...result.cpuMsPerCheckout })),
  );
  writeResults('services', { throughput, latency });
}

/** Our broker, Redis Streams and NATS JetStream on the same workload (those installed). */
/** The peers' servers: Debian's packages, installed when missing (as root on Debian), else their rows are skipped. */
function ensurePeers(): void {
  const script = join(__dirname, '..', '..', 'scripts', 'apt-install.sh');
  const installed = spawnSync('bash', [script, 'redis-server', 'nats-server'], {
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  if (installed.status !== 0)
    console.error(
      `compare: peers not installed (${installed.stderr.trim()}); their rows are skipped`,
    );
}

async function compareSuite(): Promise<void> {
  ensurePeers();
  const runs: SystemResult[][] = [];
  for (let run = 1; run <= RUNS; run++) {
    console.error(`compare: run ${run}/${RUNS}`);
    runs.push(
      await compareSystems({
        count: Number(process.env.BENCH_COMPARE_RECORDS ?? 100_000),
        size: 300,
        rate: Number(process.env.BENCH_COMPARE_RATE ?? 1_000),
        seconds: Number(process.env.BENCH_COMPARE_SECONDS ?? 5),
        only: process.env.BENCH_COMPARE_ONLY,
        log: (line) => console.error(line),
      }),
    );
  }
  // Each row's median over the runs; each ratio is taken within one run, then its median.
  const rowOf = (result: SystemResult) => `${result.system}\u0000${result.client}`;
  const results = runs[0].map((first) => {
    const same = runs.flatMap((run) => run.filter((result) => rowOf(result) === rowOf(first)));
    const pick = (
      field: 'produceRecordsPerSec' | 'consumeRecordsPerSec' | 'latencyP50Ms' | 'latencyP99Ms',
    ) => median(same.map((result) => result[field]));
    return {
      ...first,
      produceRecordsPerSec: pick('produceRecordsPerSec'),
      consumeRecordsPerSec: pick('consumeRecordsPerSec'),
      latencyP50Ms: pick('latencyP50Ms'),
      latencyP99Ms: pick('latencyP99Ms'),
    };
  });
  const perRun = runs.map(compareRatios);
  const ratios = perRun[0].map((first, index) => ({
    ...first,
    consumeRatio: median(perRun.map((run) => run[index]?.consumeRatio ?? 0)),
    latencyP50Ratio: median(perRun.map((run) => run[index]?.latencyP50Ratio ?? 0)),
  }));
  console.log(
    '\nSide by side: 300-byte records; produce acknowledged by the server; a group consumer that acknowledges; latency at 1,000 records/s (medians of %d runs)\n',
    RUNS,
  );
  console.table(
    results.map((result) => ({
      system: result.system,
      client: result.client,
      'acknowledged =': result.promised === 'fsync' ? 'on disk (fsync)' : 'in the OS page cache',
      'produce rec/s': result.produceRecordsPerSec,
      'consume rec/s': result.consumeRecordsPerSec,
      'e2e p50 ms': result.latencyP50Ms,
      'e2e p99 ms': result.latencyP99Ms,
    })),
  );
  for (const result of results) console.log(`  ${result.system}, ${result.client}: ${result.note}`);
  console.log(
    '\nOurs against the best peer row promising as much or more (each ratio within one run; medians)\n',
  );
  console.table(ratios);
  console.error('compare: the Kafka edge, transcoding 1,000-record batches in-process ...');
  const transcoding = runBrokerBenchScript<{
    direction: string;
    nsPerRecord: number;
    recordsPerSecPerCore: number;
  }>('transcode-bench.js');
  console.log(
    "\nThe Kafka rows' edge cost: record batches transcoded between Kafka v2 and our stored format (300-byte records, a key and a header each; medians)\n",
  );
  console.table(transcoding);
  writeResults('compare', { systems: results, ratios, transcoding, runs });
  const chart = join(RESULTS_DIR, 'compare.svg');
  writeFileSync(chart, compareChart(results));
  console.log(`wrote ${chart}`);
}

/** Rebalances: a small group's timeline, eager pauses at 4 × 4, and 100 members on 1,000 partitions, eager against cooperative-sticky. */
async function rebalanceSuite(): Promise<void> {
  const spans = await rebalanceTimeline();
  console.log('\nRebalance timeline on our broker under load (ms from the start)\n');
  console.table(spans);
  const timeline = join(RESULTS_DIR, 'rebalance-timeline.svg');
  writeFileSync(timeline, timelineChart(spans));
  console.log(`wrote ${timeline}`);

  console.error(
    'rebalance: eager pauses, 4 members on 4 partitions, a fifth joining and leaving 10 times ...',
  );
  const pauses = await eagerPauses(10);
  console.log(
    "\nEager rebalance pauses under load, 4 members / 4 partitions (the group's own record)\n",
  );
  console.table([pauses]);

  const members = Number(process.env.BENCH_REBALANCE_MEMBERS ?? 100);
  const partitions = Number(process.env.BENCH_REBALANCE_PARTITIONS ?? 1_000);
  const atScale: RebalanceAtScaleResult[] = [];
  for (const assignor of ['range', 'cooperative-sticky'])
    atScale.push(
      ...(await rebalanceAtScale({
        assignor,
        members,
        partitions,
        log: (line) => console.error(line),
      })),
    );
  console.log(
    `\n${members} members in 4 processes on ${partitions} partitions under load: from the change to the last assignment, and to a marker consumed on every partition (steady: the same marker round with no change)\n`,
  );
  console.table(
    atScale.map((result) => ({
      assignor: result.assignor,
      change: result.change,
      'assigned again ms': result.assignedAgainMs,
      'consuming again ms': result.consumingAgainMs,
      'steady ms': result.steadyMs,
      moved: result.movedPartitions,
      kept: result.keptPartitions,
      'kept but revoked': result.keptRevoked,
      'pause p50 ms': result.pauseP50Ms,
      'pause p99 ms': result.pauseP99Ms,
    })),
  );
  writeResults('rebalance', { timeline: spans, eagerPauses: pauses, atScale }, 1);
  const chart = join(RESULTS_DIR, 'rebalance-scale.svg');
  writeFileSync(chart, rebalanceScaleChart(atScale));
  console.log(`wrote ${chart}`);
}

/** Consuming-again time per assignor and change, as bars. */
function rebalanceScaleChart(results: RebalanceAtScaleResult[]): string {
  const max = Math.max(...results.map((result) => result.consumingAgainMs), 1);
  const rows = results.map((result, index) => {
    const y = 40 + index * 30;
    const width = (result.consumingAgainMs / max) * 480;
    const color = result.assignor === 'range' ? '#b26a00' : '#1b8a4b';
    return `<text x="20" y="${y + 12}" font-size="12">${result.assignor}, ${result.change}</text><rect x="210" y="${y}" width="${width}" height="16" fill="${color}"/><text x="${216 + width}" y="${y + 12}" font-size="11">${result.consumingAgainMs.toLocaleString('en-US')} ms (${result.movedPartitions} moved, ${result.keptRevoked} kept revoked)</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="900" height="${60 + results.length * 30}" font-family="system-ui, sans-serif"><text x="20" y="20" font-size="13" font-weight="600">${results[0]?.members ?? 0} members, ${results[0]?.partitions ?? 0} partitions: from the change to every partition consumed again</text>${rows.join('')}</svg>\n`;
}

const SUITES: { [name: string]: () => void | Promise<void> } = {
  coordinator: coordinatorSuite,
  offsets: offsetsSuite,
  broker: brokerSuite,
  services: servicesSuite,
  compare: compareSuite,
  rebalance: rebalanceSuite,
};

/** `npm run bench` runs every suite; `npm run bench -- services` (or broker, coordinator, offsets, compare, rebalance) runs some. */
async function main(): Promise<void> {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((name) => !(name in SUITES));
  if (unknown.length > 0) {
    console.error(
      `unknown bench suite(s): ${unknown.join(', ')}; choose from ${Object.keys(SUITES).join(', ')}`,
    );
    process.exit(2);
  }
  for (const name of asked.length > 0 ? asked : Object.keys(SUITES)) await SUITES[name]();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
