import { CleanupPolicy, decodeRecordBatch, encodeRecordBatch, RecordBatch } from '@hospital/proto';
import pino from 'pino';
import { PartitionLog, type PartitionLogConfig } from '../partition-log';
import { MemoryFiles } from '../testing/memory-files';
import type { TopicStore } from '../topic-store';
import { LogCleaner } from './log-cleaner';

const DIR = '/data/topics/compacted/0';
const CONFIG: PartitionLogConfig = {
  segmentBytes: 1_024,
  indexIntervalBytes: 128,
  retentionMs: -1,
  retentionBytes: -1,
};
const HOUR = 3_600_000;

function open(files: MemoryFiles): PartitionLog {
  return PartitionLog.open(DIR, CONFIG, { topic: 'compacted', partition: 0, files });
}

/** Appends keyed records, one batch each; a null value is a tombstone. */
function put(log: PartitionLog, entries: [key: string | null, value: string | null][], atMs = 0) {
  for (const [key, value] of entries) {
    const batch = encodeRecordBatch([{ key, value: value ?? '' }], { now: atMs });
    log.append(
      [
        {
          bytes: Buffer.from(RecordBatch.encode(batch).finish()),
          recordCount: 1,
          maxTimestampMs: atMs,
        },
      ],
      atMs,
    );
  }
}

/** What a reader sees: every record in order, and the latest value per key. */
function contents(log: PartitionLog) {
  const records: { offset: number; key: string | null; value: string }[] = [];
  for (let next = log.logStartOffset; next < log.logEndOffset;) {
    const { batches } = log.read(next, 1 << 20);
    if (batches.length === 0) break;
    for (const bytes of batches) {
      const batch = RecordBatch.decode(bytes);
      for (const record of decodeRecordBatch(batch))
        if (record.offset >= next)
          records.push({
            offset: record.offset,
            key: record.key?.toString() ?? null,
            value: record.value.toString(),
          });
      next = Math.max(next, batch.baseOffset + batch.recordCount);
    }
  }
  const latest = new Map<string, string>();
  for (const record of records) {
    if (record.key === null) continue;
    if (record.value === '') latest.delete(record.key);
    else latest.set(record.key, record.value);
  }
  return { records, latest };
}

const storeOf = (log: PartitionLog) =>
  ({
    list: () => [
      {
        name: 'compacted',
        internal: false,
        settings: { cleanupPolicy: CleanupPolicy.CLEANUP_POLICY_COMPACT },
        partitions: [log],
      },
    ],
  }) as unknown as TopicStore;

function cleanerFor(log: PartitionLog, nowMs = 0, maxKeys = 1_000_000) {
  return new LogCleaner(storeOf(log), {
    deleteRetentionMs: HOUR,
    minCleanableRatio: 0.5,
    maxKeys,
    now: () => nowMs,
    logger: pino({ level: 'silent' }),
  });
}

/** 300 updates of 10 keys (and a few keyless records), all durable. */
async function churn(log: PartitionLog) {
  for (let round = 0; round < 30; round++)
    put(
      log,
      Array.from({ length: 10 }, (_, key) => [`k${key}`, `v${round}-${'x'.repeat(20)}`]),
    );
  put(log, [[null, 'no key']]);
  await log.sync();
}

describe('broker/storage/LogCleaner', () => {
  it('keeps the latest record per key in the closed segments, and never touches the active one', async () => {
    const log = open(new MemoryFiles());
    await churn(log);
    const before = contents(log);
    const end = log.logEndOffset;
    const segmentsBefore = log.segmentCount;
    const cleaner = cleanerFor(log);
    const result = await cleaner.clean(log);

    expect(result).toMatchObject({ segmentsBefore: segmentsBefore - 1 });
    expect(result!.bytesAfter).toBeLessThan(result!.bytesBefore / 5);
    expect(log.logEndOffset).toBe(end);
    const after = contents(log);
    expect(after.latest).toEqual(before.latest);
    expect(after.records.length).toBeLessThan(before.records.length / 5);
    // Offsets keep their place (sparse now), in order; the keyless record stays.
    const offsets = after.records.map((record) => record.offset);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(after.records.find((record) => record.key === null)?.value).toBe('no key');
    // Nothing dirty is left: a second pass leaves the partition alone.
    expect(await cleaner.clean(log)).toBeUndefined();
    // Once more is dirty, the small cleaned segments merge.
    await churn(log);
    const dirtySegments = log.segmentCount;
    await cleaner.clean(log);
    expect(log.segmentCount).toBeLessThan(dirtySegments / 2);
    expect(contents(log).latest).toEqual(before.latest);
  });

  it('maps at most maxKeys keys a pass: it cleans what it mapped, and the next pass goes on', async () => {
    const log = open(new MemoryFiles());
    for (let round = 0; round < 3; round++)
      put(
        log,
        Array.from({ length: 60 }, (_, key) => [`k${round}-${key}`, 'x'.repeat(20)]),
      );
    await churn(log);
    const expected = contents(log).latest;
    const cleaner = cleanerFor(log, 0, 50);
    const first = await cleaner.clean(log);
    expect(first!.segmentsBefore).toBeLessThan(log.segmentCount);
    let passes = 1;
    while (passes < 20 && (await cleaner.clean(log))) passes++;
    expect(passes).toBeGreaterThan(1);
    expect(passes).toBeLessThan(20);
    expect(contents(log).latest).toEqual(expected);
    expect(contents(log).records.length).toBeLessThan(200);
  });

  it('keeps a tombstone for the delete retention, then drops it with everything it deleted', async () => {
    const log = open(new MemoryFiles());
    put(
      log,
      [
        ['gone', 'v1'],
        ['gone', 'v2'],
        ['kept', 'v1'],
      ],
      0,
    );
    put(log, [['gone', null]], 0);
    await churn(log); // closes the segments above and gives the cleaner work
    const young = cleanerFor(log, HOUR - 1);
    await young.clean(log);
    const withTombstone = contents(log).records.filter((record) => record.key === 'gone');
    expect(withTombstone).toEqual([{ offset: 3, key: 'gone', value: '' }]);

    put(
      log,
      Array.from({ length: 40 }, (_, i) => [`later${i % 3}`, 'y'.repeat(30)]),
      2 * HOUR,
    );
    await log.sync();
    await cleanerFor(log, 2 * HOUR).clean(log);
    const { records, latest } = contents(log);
    expect(records.filter((record) => record.key === 'gone')).toEqual([]);
    expect(latest.get('kept')).toBe('v1');
  });

  it('is crash-safe: a power loss at any point of a clean loses no latest value and leaves no half-written segment in use', async () => {
    const reference = open(new MemoryFiles());
    await churn(reference);
    const expected = contents(reference).latest;
    let cuts = 0;
    for (let cut = 1; ; cut++) {
      const files = new MemoryFiles();
      const log = open(files);
      await churn(log);
      files.cutPowerAt(cut);
      const finished = await cleanerFor(log)
        .clean(log)
        .then(
          () => files.powerIsOn,
          () => false,
        );
      const disk = files.afterPowerLoss();
      const reopened = open(disk);
      expect([cut, contents(reopened).latest]).toEqual([cut, expected]);
      expect(disk.list(DIR).filter((name) => /\.(cleaned|swap)$/.test(name))).toEqual([]);
      cuts++;
      if (finished) break;
    }
    expect(cuts).toBeGreaterThan(20);
  });
});
