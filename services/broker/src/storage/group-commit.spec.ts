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

  it('interval: an acks=all waiter is released only by the next flush, which makes the data durable', async () => {
    const commit = new GroupCommit('interval', 60_000, () => [log]);
    const end = appendOne();
    let released = false;
    const waiting = commit.waitDurable(log, end).then(() => (released = true));
    await Promise.resolve();
    expect(released).toBe(false);
    await commit.tick();
    await waiting;
    expect(log.durableEndOffset).toBe(end);
  });

  it('append: waiting fsyncs at once', async () => {
    const commit = new GroupCommit('append', 60_000, () => [log]);
    const end = appendOne();
    await commit.waitDurable(log, end);
    expect(log.durableEndOffset).toBe(end);
  });

  it('os: never waits and never fsyncs on the produce path', async () => {
    const commit = new GroupCommit('os', 60_000, () => [log]);
    appendOne();
    await commit.waitDurable(log, 1);
    expect(log.durableEndOffset).toBe(0);
  });

  it('stop releases every waiter after a last flush', async () => {
    const commit = new GroupCommit('interval', 60_000, () => [log]);
    commit.start();
    const end = appendOne();
    const waiting = commit.waitDurable(log, end);
    await commit.stop();
    await waiting;
    expect(log.durableEndOffset).toBe(end);
  });
});
