import { decodeRecordBatch, encodeRecordBatch, RecordBatch } from '@hospital/proto';
import type { DurabilityLevel } from './durability';
import { GroupCommit } from './group-commit';
import { PartitionLog, type PartitionLogConfig } from './partition-log';
import { MemoryFiles, seededRandom } from './testing/memory-files';

const DIR = '/data/topics/power.test/0';
const CONFIG: PartitionLogConfig = {
  // Small segments and index intervals, so crashes land around rolls and index entries too.
  segmentBytes: 2_048,
  indexIntervalBytes: 256,
  retentionMs: -1,
  retentionBytes: -1,
};
const PARTITION = { topic: 'power.test', partition: 0 };

interface Outcome {
  appended: Map<number, string>;
  acknowledged: Map<number, string>;
  recovered: Map<number, string>;
}

/**
 * One run: an acks=all producer appends and waits at `level` (fsyncs at
 * least `fsyncMinIntervalMs` apart) until the power goes at a random call;
 * at os the background flush's interval never comes round. Then the disk
 * as a restarted machine finds it (fsynced data, maybe a torn tail) is
 * opened and read back whole.
 */
async function crashOnce(
  seed: number,
  level: DurabilityLevel,
  fsyncMinIntervalMs = 0,
): Promise<Outcome> {
  const random = seededRandom(seed);
  const files = new MemoryFiles();
  const log = PartitionLog.open(DIR, CONFIG, { ...PARTITION, files });
  const commit = new GroupCommit(level, { fsyncMinIntervalMs, flushIntervalMs: 60_000 }, () => [
    log,
  ]);
  files.cutPowerAt(1 + Math.floor(random() * 400));
  const appended = new Map<number, string>();
  const acknowledged = new Map<number, string>();
  const inFlight: Promise<unknown>[] = [];
  for (let step = 0; files.powerIsOn && step < 5_000; step++) {
    const action = random();
    if (action < 0.6) {
      const values = Array.from(
        { length: 1 + Math.floor(random() * 6) },
        (_, i) => `s${seed}-${step}-${i}-${'x'.repeat(Math.floor(random() * 80))}`,
      );
      const bytes = Buffer.from(
        RecordBatch.encode(encodeRecordBatch(values.map((value) => ({ value })))).finish(),
      );
      let baseOffset: number;
      try {
        [{ baseOffset }] = log.append(
          [{ bytes, recordCount: values.length, maxTimestampMs: 0 }],
          0,
        );
      } catch {
        break; // the power went during the append
      }
      values.forEach((value, i) => appended.set(baseOffset + i, value));
      inFlight.push(
        commit.waitDurable(log, baseOffset + values.length).then(
          () => values.forEach((value, i) => acknowledged.set(baseOffset + i, value)),
          () => undefined,
        ),
      );
    } else {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  files.cutPowerAt(0);
  // The broker's last flush finds the disk gone: every waiter left is refused.
  inFlight.push(commit.stop());
  await Promise.allSettled(inFlight);

  const disk = files.afterPowerLoss(random);
  const reopened = PartitionLog.open(DIR, CONFIG, { ...PARTITION, files: disk });
  const recovered = new Map<number, string>();
  for (let next = reopened.logStartOffset; next < reopened.logEndOffset;) {
    // read() verifies every batch's checksum: a corrupt one throws.
    const records = reopened
      .read(next, 1 << 20)
      .batches.flatMap((bytes) => decodeRecordBatch(RecordBatch.decode(bytes)))
      .filter((record) => record.offset >= next);
    for (const record of records) recovered.set(record.offset, record.value.toString());
    next = records[records.length - 1].offset + 1;
  }
  // And it takes appends again where it ends.
  const end = reopened.logEndOffset;
  const bytes = Buffer.from(RecordBatch.encode(encodeRecordBatch([{ value: 'after' }])).finish());
  expect(reopened.append([{ bytes, recordCount: 1, maxTimestampMs: 0 }], 0)[0].baseOffset).toBe(
    end,
  );
  return { appended, acknowledged, recovered };
}

/** What recovery must never do, whatever the level: serve a gap, a stranger or a reordering. */
function expectCleanPrefix({ appended, recovered }: Outcome): void {
  const offsets = [...recovered.keys()];
  expect(offsets).toEqual(offsets.map((_, index) => index));
  for (const [offset, value] of recovered) expect(value).toBe(appended.get(offset));
}

describe('broker/storage: simulated power loss (LazyFS-style: only fsynced bytes survive, plus a torn tail)', () => {
  const variants = [
    { name: 'fsync (adaptive group commit)', fsyncMinIntervalMs: 0 },
    { name: 'fsync with fsyncs at least 1 ms apart', fsyncMinIntervalMs: 1 },
  ];
  for (const { name, fsyncMinIntervalMs } of variants) {
    it(`at ${name}: 100 crashes at random points lose no acknowledged record, and recovery serves a clean prefix`, async () => {
      let acknowledged = 0;
      let lostUnacknowledged = 0;
      for (let seed = 1; seed <= 100; seed++) {
        const outcome = await crashOnce(
          seed * 7_919 + fsyncMinIntervalMs,
          'fsync',
          fsyncMinIntervalMs,
        );
        expectCleanPrefix(outcome);
        for (const [offset, value] of outcome.acknowledged)
          expect([seed, offset, outcome.recovered.get(offset)]).toEqual([seed, offset, value]);
        acknowledged += outcome.acknowledged.size;
        lostUnacknowledged += outcome.appended.size - outcome.recovered.size;
      }
      // The runs must have had something to lose, or they prove nothing.
      expect(acknowledged).toBeGreaterThan(1_000);
      expect(lostUnacknowledged).toBeGreaterThan(0);
    });
  }

  it('at os: acknowledged means written to the page cache only, so a power loss loses what the OS had not written back (here: everything since the last fsync), and recovery still serves a clean prefix', async () => {
    let acknowledged = 0;
    let lost = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const outcome = await crashOnce(seed, 'os');
      expectCleanPrefix(outcome);
      acknowledged += outcome.acknowledged.size;
      lost += [...outcome.acknowledged.keys()].filter(
        (offset) => !outcome.recovered.has(offset),
      ).length;
    }
    // The double never writes back on its own, and nothing fsyncs at os: every
    // acknowledged record not in a torn tail is gone. That is the promise of os.
    expect(acknowledged).toBeGreaterThan(0);
    expect(lost).toBeGreaterThan(acknowledged / 2);
  });
});
