import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRecordBatch, RecordBatch } from '@hospital/proto';
import { GroupCommit } from './group-commit';
import { PartitionLog } from './partition-log';

describe('broker/storage/GroupCommit', () => {
  let dir: string;
  let log: PartitionLog;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'group-commit-'));
    log = PartitionLog.open(
      dir,
      {
        segmentBytes: 1 << 20,
        indexIntervalBytes: 4096,
        retentionMs: -1,
        retentionBytes: -1,
      },
      { topic: 'patient.checkout', partition: 0 },
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const appendOne = () => {
    const bytes = Buffer.from(RecordBatch.encode(encodeRecordBatch([{ value: 'v' }])).finish());
    return log.append([{ bytes, recordCount: 1, maxTimestampMs: 0 }], 0)[0].lastOffset + 1;
  };

  const fsyncs = () => {
    let count = 0;
    const sync = log.sync.bind(log);
    jest.spyOn(log, 'sync').mockImplementation(() => {
      count++;
      return sync();
    });
    return () => count;
  };

  it('fsync: the first waiter starts an fsync at once, with no tick to wait out', async () => {
    const commit = new GroupCommit(
      'fsync',
      { fsyncMinIntervalMs: 0, flushIntervalMs: 60_000 },
      () => [log],
    );
    const end = appendOne();
    expect(commit.visibleEnd(log)).toBe(0);
    await commit.waitDurable(log, end);
    expect(log.durableEndOffset).toBe(end);
    expect(commit.visibleEnd(log)).toBe(end);
  });

  it('fsync: waiters arriving during an fsync share the next one, which starts as it ends', async () => {
    const commit = new GroupCommit(
      'fsync',
      { fsyncMinIntervalMs: 0, flushIntervalMs: 60_000 },
      () => [log],
    );
    const target = log as unknown as { syncOnce(): Promise<void> };
    const realSyncOnce = target.syncOnce.bind(log);
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const started: number[] = [];
    jest.spyOn(target, 'syncOnce').mockImplementation(async () => {
      started.push(log.logEndOffset);
      const done = realSyncOnce();
      if (started.length === 1) await gate;
      return done;
    });
    const first = commit.waitDurable(log, appendOne());
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([1]);
    // While the first fsync is in flight, ten more appends arrive, each with a waiter.
    const more = Array.from({ length: 10 }, () => commit.waitDurable(log, appendOne()));
    openGate();
    await Promise.all([first, ...more]);
    expect(log.durableEndOffset).toBe(11);
    // The ten latecomers shared one fsync, started once the first ended.
    expect(started).toEqual([1, 11]);
  });

  it('fsync with a least interval: fsyncs of a partition start at least that far apart', async () => {
    let now = 0;
    const commit = new GroupCommit(
      'fsync',
      { fsyncMinIntervalMs: 25, flushIntervalMs: 60_000 },
      () => [log],
      () => now,
    );
    const count = fsyncs();
    await commit.waitDurable(log, appendOne());
    expect(count()).toBe(1);
    now = 5;
    jest.useFakeTimers();
    try {
      let released = false;
      const second = commit.waitDurable(log, appendOne()).then(() => (released = true));
      await jest.advanceTimersByTimeAsync(19);
      expect(released).toBe(false);
      expect(count()).toBe(1);
      now = 25;
      await jest.advanceTimersByTimeAsync(1);
      jest.useRealTimers();
      await second;
      expect(count()).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('os: acknowledges without an fsync, shows records at once, and the background flush makes them durable', async () => {
    const commit = new GroupCommit('os', { fsyncMinIntervalMs: 0, flushIntervalMs: 60_000 }, () => [
      log,
    ]);
    const end = appendOne();
    await commit.waitDurable(log, end);
    expect(log.durableEndOffset).toBe(0);
    expect(commit.visibleEnd(log)).toBe(end);
    await commit.flushAll();
    expect(log.durableEndOffset).toBe(end);
  });

  it('a failed fsync fails its waiters and acknowledges nothing after it', async () => {
    const commit = new GroupCommit(
      'fsync',
      { fsyncMinIntervalMs: 0, flushIntervalMs: 60_000 },
      () => [log],
    );
    const end = appendOne();
    jest
      .spyOn(log as unknown as { syncOnce(): Promise<void> }, 'syncOnce')
      .mockRejectedValueOnce(new Error('EIO'));
    await expect(commit.waitDurable(log, end)).rejects.toThrow('EIO');
    expect(log.durableEndOffset).toBe(0);
  });

  it('stop makes everything appended durable', async () => {
    const commit = new GroupCommit('os', { fsyncMinIntervalMs: 0, flushIntervalMs: 60_000 }, () => [
      log,
    ]);
    commit.start();
    const end = appendOne();
    await commit.stop();
    expect(log.durableEndOffset).toBe(end);
  });
});
