import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { runBrokerCase, type BrokerBenchCase, type BrokerBenchResult } from './broker-bench';

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

async function main(): Promise<void> {
  const cases: BrokerBenchCase[] = [
    {
      partitions: 1,
      records: RECORDS,
      recordBytes: 300,
      batchRecords: 500,
      durability: 'interval',
      inFlightPerPartition: 5,
    },
    {
      partitions: 4,
      records: RECORDS,
      recordBytes: 300,
      batchRecords: 500,
      durability: 'interval',
      inFlightPerPartition: 5,
    },
    {
      partitions: 4,
      records: RECORDS,
      recordBytes: 300,
      batchRecords: 500,
      durability: 'append',
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
  const outDir = join(__dirname, '..', '..', '..', 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'broker.json');
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version }, runs: RUNS, results: medians }, null, 2)}\n`,
  );
  console.log(`\nwrote ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
