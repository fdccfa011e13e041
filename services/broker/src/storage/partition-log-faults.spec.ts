import { decodeRecordBatch, encodeRecordBatch, ErrorReason, RecordBatch } from '@hospital/proto';
import { GroupCommit } from './group-commit';
import {
  PartitionLog,
  type IncomingBatch,
  type PartitionContext,
  type PartitionFailure,
  type PartitionLogConfig,
} from './partition-log';
import { MemoryFiles } from './testing/memory-files';

const DIR = '/data/topics/patient.checkout/0';
const LOG_FILE = `${DIR}/00000000000000000000.log`;
const config: PartitionLogConfig = {
  segmentBytes: 1 << 20,
  indexIntervalBytes: 256,
  retentionMs: -1,
  retentionBytes: -1,
};

function batch(label: string, count = 3): IncomingBatch {
  const records = Array.from({ length: count }, (_, i) => ({ value: `${label}-${i}` }));
  return {
    bytes: Buffer.from(RecordBatch.encode(encodeRecordBatch(records, { now: 0 })).finish()),
    recordCount: count,
    maxTimestampMs: 0,
  };
}

function values(log: PartitionLog): string[] {
  const out: string[] = [];
  for (let next = log.logStartOffset; next < log.logEndOffset;) {
    const { batches } = log.read(next, 1 << 20);
    const records = batches
      .flatMap((bytes) => decodeRecordBatch(RecordBatch.decode(bytes)))
      .filter((record) => record.offset >= next);
    out.push(...records.map((record) => record.value.toString()));
    next = records[records.length - 1].offset + 1;
  }
  return out;
}

function open(files: MemoryFiles, failures: PartitionFailure[] = [], overrides = {}) {
  const context: PartitionContext = {
    topic: 'patient.checkout',
    partition: 0,
    files,
    onFailed: (_log, failure) => failures.push(failure),
  };
  return PartitionLog.open(DIR, { ...config, ...overrides }, context);
}

const storageError = (message: RegExp) =>
  expect.objectContaining({
    reason: ErrorReason.KAFKA_STORAGE_ERROR,
    message: expect.stringMatching(message),
  });

describe('broker/storage/PartitionLog under disk faults', () => {
  it('after a failed fsync acknowledges nothing more, even when the next fsync would succeed, until a restart re-validates it', async () => {
    const files = new MemoryFiles();
    const failures: PartitionFailure[] = [];
    const log = open(files, failures);
    log.append([batch('durable')], 0);
    await log.sync();
    const stopFailing = files.inject((operation) =>
      operation === 'sync' ? { fail: 'EIO' } : undefined,
    );
    log.append([batch('lost')], 0);
    await expect(log.sync()).rejects.toEqual(
      storageError(/patient\.checkout\/0 is offline .*fsync: EIO/),
    );
    stopFailing(); // the disk "recovers": Postgres's fsyncgate is exactly this moment
    await expect(log.sync()).rejects.toMatchObject({ reason: ErrorReason.KAFKA_STORAGE_ERROR });
    expect(() => log.append([batch('refused')], 0)).toThrow(storageError(/offline/));
    expect(() => log.read(0, 100)).toThrow(storageError(/offline/));
    expect(log.durableEndOffset).toBe(3);
    expect(failures).toEqual([expect.objectContaining({ operation: 'fsync', code: 'EIO' })]);

    await log.close(); // no clean-shutdown record: the next start checks every frame
    expect(files.exists(`${DIR}/clean-shutdown.json`)).toBe(false);
    const restarted = open(files);
    expect(restarted.failed).toBeUndefined();
    restarted.append([batch('after')], 0);
    await restarted.sync();
    expect(values(restarted)).toEqual([
      'durable-0',
      'durable-1',
      'durable-2',
      'lost-0',
      'lost-1',
      'lost-2',
      'after-0',
      'after-1',
      'after-2',
    ]);
  });

  it('rolls a partial write back to the last good size, then stops the partition (EIO)', () => {
    const files = new MemoryFiles();
    const failures: PartitionFailure[] = [];
    const log = open(files, failures);
    log.append([batch('a')], 0);
    const goodSize = files.contents(LOG_FILE)?.length;
    const stop = files.inject((operation) =>
      operation === 'append' ? { partial: 17, fail: 'EIO' } : undefined,
    );
    expect(() => log.append([batch('torn')], 0)).toThrow(storageError(/offline .*write: EIO/));
    stop();
    expect(files.contents(LOG_FILE)?.length).toBe(goodSize);
    expect(log.logEndOffset).toBe(3);
    expect(failures).toHaveLength(1);
    const restarted = open(files);
    expect(restarted.truncatedOnRecovery).toBe(0);
    expect(restarted.append([batch('b')], 0)[0].baseOffset).toBe(3);
    expect(values(restarted)).toEqual(['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'b-2']);
  });

  it('on a full disk cuts the refused append back out, keeps serving, and appends again once there is room', () => {
    const files = new MemoryFiles();
    const log = open(files, [], { segmentBytes: 1200 });
    for (let i = 0; i < 5; i++) log.append([batch(`a${i}`)], 0);
    const segments = log.segmentCount;
    const end = log.logEndOffset;
    // Full part way through a request that rolls a segment: nothing of it may stay.
    let appends = 0;
    const stop = files.inject((operation) =>
      operation === 'append' && ++appends === 2 ? { partial: 5, fail: 'ENOSPC' } : undefined,
    );
    const big = Array.from({ length: 8 }, (_, i) => batch(`big${i}`, 4));
    expect(() => log.append(big, 0)).toThrow(storageError(/0: the disk is full \(ENOSPC\)/));
    stop();
    expect(log.failed).toBeUndefined();
    expect([log.segmentCount, log.logEndOffset]).toEqual([segments, end]);
    expect(log.append([batch('after')], 0)[0].baseOffset).toBe(end);
    expect(values(log).slice(-4)).toEqual(['a4-2', 'after-0', 'after-1', 'after-2']);
    expect(open(files).truncatedOnRecovery).toBe(0);
  });

  it('runs fsync, retention, close and delete one at a time: a delete waits for the fsync in flight', async () => {
    const files = new MemoryFiles();
    const log = open(files);
    log.append([batch('a')], 0);
    const syncing = log.sync();
    const destroyed = log.destroy();
    await expect(syncing).resolves.toBeUndefined();
    await destroyed;
    expect(log.durableEndOffset).toBe(3);
    expect(files.exists(DIR)).toBe(false);
  });
});

describe('broker/storage/GroupCommit under disk faults', () => {
  it('fails only the waiters of the partition whose fsync failed; a partition deleted meanwhile fails its own as deleted, not as a disk error', async () => {
    const files = new MemoryFiles();
    const logs = [0, 1, 2].map((partition) =>
      PartitionLog.open(`/data/topics/t/${partition}`, config, { topic: 't', partition, files }),
    );
    const commit = new GroupCommit(
      'fsync',
      { fsyncMinIntervalMs: 5, flushIntervalMs: 60_000 },
      () => logs,
    );
    files.inject((operation, path) =>
      operation === 'sync' && path.startsWith('/data/topics/t/1/') ? { fail: 'EIO' } : undefined,
    );
    const waits = logs.map((log) => {
      const end = log.append([batch('x')], 0)[0].lastOffset + 1;
      return commit.waitDurable(log, end).then(
        () => 'durable',
        (error: { reason: ErrorReason }) => ErrorReason[error.reason],
      );
    });
    void logs[2].release(); // partition 2's topic deleted while its waiter waits
    expect(await Promise.all(waits)).toEqual([
      'durable',
      'KAFKA_STORAGE_ERROR',
      'UNKNOWN_TOPIC_OR_PARTITION',
    ]);
  });
});
