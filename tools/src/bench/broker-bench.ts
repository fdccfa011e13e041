import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Acks,
  BrokerClient,
  decodeRecordBatch,
  encodeRecordBatch,
  partitionForKey,
  RecordBatch,
  type FetchResponse,
  type ProduceResponse,
} from '@hospital/proto';
import { startBroker } from '@hospital/processes';

export interface BrokerBenchCase {
  partitions: number;
  records: number;
  recordBytes: number;
  batchRecords: number;
  durability: 'fsync' | 'os';
  inFlightPerPartition: number;
}

export interface BrokerBenchResult extends BrokerBenchCase {
  produceRecordsPerSec: number;
  produceMBPerSec: number;
  fetchRecordsPerSec: number;
  fetchMBPerSec: number;
  peakRssMB: number;
}

function unary<Res>(
  invoke: (callback: (error: ServiceError | null, response: Res) => void) => void,
): Promise<Res> {
  return new Promise((resolve, reject) =>
    invoke((error, response) => (error ? reject(error) : resolve(response))),
  );
}

/** One run: produce every record over gRPC with acks=all, then fetch them all back. */
export async function runBrokerCase(
  benchCase: BrokerBenchCase,
  port: number,
): Promise<BrokerBenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'broker-bench-'));
  const topic = 'bench';
  const broker = await startBroker({
    dataDir,
    port,
    env: {
      BROKER_DURABILITY: benchCase.durability,
      BROKER_TOPICS: `${topic}:${benchCase.partitions}`,
    },
  });
  const client = new BrokerClient(broker.address, credentials.createInsecure(), {
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
  });
  let peakRss = broker.rssBytes();
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, broker.rssBytes())), 50);
  try {
    // Prepare batches up front so the clock measures the broker, not the encoder.
    const padding = 'x'.repeat(Math.max(0, benchCase.recordBytes - 40));
    const perPartition: RecordBatch[][] = Array.from({ length: benchCase.partitions }, () => []);
    const pending: { key: string; value: string }[][] = Array.from(
      { length: benchCase.partitions },
      () => [],
    );
    for (let i = 0; i < benchCase.records; i++) {
      const key = `patient-${i % 10_000}`;
      const partition = partitionForKey(key, benchCase.partitions);
      pending[partition].push({ key, value: `${i}:${padding}` });
      if (pending[partition].length === benchCase.batchRecords) {
        perPartition[partition].push(encodeRecordBatch(pending[partition]));
        pending[partition] = [];
      }
    }
    pending.forEach(
      (records, partition) =>
        records.length && perPartition[partition].push(encodeRecordBatch(records)),
    );
    const payloadBytes = perPartition.flat().reduce((sum, batch) => sum + batch.records.length, 0);

    const produceStart = process.hrtime.bigint();
    // Like a Kafka producer with max.in.flight.requests = 5: several requests per partition at once.
    await Promise.all(
      perPartition.flatMap((batches, partition) => {
        let next = 0;
        return Array.from({ length: benchCase.inFlightPerPartition }, async () => {
          while (next < batches.length) {
            const batch = batches[next++];
            await unary<ProduceResponse>((callback) =>
              client.produce(
                {
                  acks: Acks.ACKS_ALL,
                  timeoutMs: 30_000,
                  topics: [{ name: topic, partitions: [{ partition, batch }] }],
                },
                new Metadata(),
                callback,
              ),
            );
          }
        });
      }),
    );
    const produceSeconds = Number(process.hrtime.bigint() - produceStart) / 1e9;

    const fetchStart = process.hrtime.bigint();
    let fetched = 0;
    await Promise.all(
      perPartition.map(async (_, partition) => {
        let offset = 0;
        for (;;) {
          const response = await unary<FetchResponse>((callback) =>
            client.fetch(
              {
                maxWaitMs: 0,
                minBytes: 0,
                maxBytes: 4 * 1024 * 1024,
                topics: [
                  {
                    name: topic,
                    partitions: [{ partition, fetchOffset: offset, partitionMaxBytes: 0 }],
                  },
                ],
              },
              new Metadata(),
              callback,
            ),
          );
          const records = response.topics[0].partitions[0].batches
            .flatMap(decodeRecordBatch)
            .filter((record) => record.offset >= offset);
          if (records.length === 0) return;
          fetched += records.length;
          offset = records[records.length - 1].offset + 1;
        }
      }),
    );
    const fetchSeconds = Number(process.hrtime.bigint() - fetchStart) / 1e9;
    if (fetched !== benchCase.records)
      throw new Error(`fetched ${fetched} of ${benchCase.records} records`);

    const megabytes = payloadBytes / (1024 * 1024);
    return {
      ...benchCase,
      produceRecordsPerSec: Math.round(benchCase.records / produceSeconds),
      produceMBPerSec: Number((megabytes / produceSeconds).toFixed(1)),
      fetchRecordsPerSec: Math.round(benchCase.records / fetchSeconds),
      fetchMBPerSec: Number((megabytes / fetchSeconds).toFixed(1)),
      peakRssMB: Math.round(peakRss / (1024 * 1024)),
    };
  } finally {
    clearInterval(sampler);
    client.close();
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
