// The Kafka edge's cost: a Kafka v2 batch of 1,000 records of 300 bytes
// (a key and a header each, as checkout's records) transcoded into the
// stored batch (produce: CRC-32C checked, decoded, re-encoded) and back
// (fetch: decoded, written as v2 with its CRC-32C), in-process. Prints one
// JSON line per direction; run by `npm run bench -- compare`.
import { performance } from 'node:perf_hooks';
import { KafkaWriter } from '../kafka/protocol/kafka-writer';
import { decodeKafkaBatches, headerFor, writeKafkaBatch } from '../kafka/protocol/record-batch-v2';
import { toStoredBatch, writeStoredBatch } from '../kafka/protocol/transcode';

const RECORDS = 1_000;
const VALUE_BYTES = 300;
const ROUNDS = Number(process.env.BENCH_TRANSCODE_ROUNDS ?? 2_000);

function kafkaBatch(): Buffer {
  const out = new KafkaWriter(RECORDS * (VALUE_BYTES + 64));
  const now = Date.now();
  const records = Array.from({ length: RECORDS }, (_, index) => ({
    offsetDelta: index,
    timestamp: now + index,
    key: Buffer.from(`P-${index % 5_000}`),
    value: Buffer.alloc(VALUE_BYTES, 0x61),
    headers: [{ key: 'event-id', value: Buffer.from(`e-${index}`) }],
  }));
  writeKafkaBatch(out, headerFor(0, records), records);
  return Buffer.from(out.view());
}

/** Median ns per record over ROUNDS rounds, after as many rounds of warm-up. */
function time(round: () => void): number {
  for (let warm = 0; warm < Math.min(ROUNDS, 200); warm++) round();
  const samples: number[] = [];
  for (let run = 0; run < ROUNDS; run++) {
    const started = performance.now();
    round();
    samples.push(((performance.now() - started) * 1e6) / RECORDS);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const incoming = kafkaBatch();
const stored = toStoredBatch(decodeKafkaBatches(incoming)[0], 'bench');
const out = new KafkaWriter(incoming.length + 1_024);
const cases = [
  {
    direction: 'produce: Kafka v2 batch to stored batch',
    nsPerRecord: time(() => void toStoredBatch(decodeKafkaBatches(incoming)[0], 'bench')),
  },
  {
    direction: 'fetch: stored batch to Kafka v2 batch',
    nsPerRecord: time(() => {
      out.reset();
      writeStoredBatch(out, stored, false);
    }),
  },
];
for (const { direction, nsPerRecord } of cases)
  process.stdout.write(
    `${JSON.stringify({
      direction,
      records: RECORDS,
      valueBytes: VALUE_BYTES,
      nsPerRecord: Math.round(nsPerRecord),
      recordsPerSecPerCore: Math.round(1e9 / nsPerRecord),
      rounds: ROUNDS,
    })}\n`,
  );
