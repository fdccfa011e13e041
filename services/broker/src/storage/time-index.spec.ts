import { encodeRecordBatch, RecordBatch } from '@hospital/proto';
import { PartitionLog, type PartitionLogConfig } from './partition-log';
import { MemoryFiles } from './testing/memory-files';

const DIR = '/data/topics/timed/0';
const CONFIG: PartitionLogConfig = {
  segmentBytes: 1 << 20,
  indexIntervalBytes: 4096,
  retentionMs: -1,
  retentionBytes: -1,
};
const START = 1_764_000_000_000;

/** 2,000 one-record batches, one a second; a few arrive late (an older timestamp). */
function timedLog(files: MemoryFiles): PartitionLog {
  const log = PartitionLog.open(DIR, CONFIG, { topic: 'timed', partition: 0, files });
  for (let i = 0; i < 2_000; i++) {
    const timestamp = START + (i % 97 === 0 ? i - 50 : i) * 1_000;
    const bytes = Buffer.from(
      RecordBatch.encode(encodeRecordBatch([{ value: 'x'.repeat(100), timestamp }])).finish(),
    );
    log.append([{ bytes, recordCount: 1, maxTimestampMs: timestamp }], START + i * 1_000);
  }
  return log;
}

/** The answer by definition: the first batch whose timestamp is at or after the target. */
const expected = (target: number) => {
  for (let i = 0; i < 2_000; i++)
    if (START + (i % 97 === 0 ? i - 50 : i) * 1_000 >= target) return i;
  return undefined;
};

describe('broker/storage: the time index (Kafka .timeindex)', () => {
  it('answers ListOffsets by timestamp as a full scan would, reading only an index interval of frame headers', async () => {
    const files = new MemoryFiles();
    const log = timedLog(files);
    const targets = [START - 1, START, START + 1_234_500, START + 1_999_000, START + 5_000_000];
    for (const target of targets) {
      const before = files.calls;
      expect([target, log.offsetForTimestamp(target)]).toEqual([target, expected(target)]);
      // ~150-byte frames, 4 KiB between entries: a few dozen headers at most, not 2,000.
      expect(files.calls - before).toBeLessThan(60);
    }
    // The index survives a clean restart, and is rebuilt by recovery after a crash.
    await log.close();
    const trusted = PartitionLog.open(DIR, CONFIG, { topic: 'timed', partition: 0, files });
    expect(trusted.offsetForTimestamp(START + 1_234_500)).toBe(expected(START + 1_234_500));
    const crashed = PartitionLog.open(DIR, CONFIG, {
      topic: 'timed',
      partition: 0,
      files: files.afterPowerLoss(),
    });
    expect(crashed.offsetForTimestamp(START + 1_500_000)).toBe(expected(START + 1_500_000));
  });
});
