import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeRecordBatch, encodeRecordBatch, ErrorReason, RecordBatch } from '@hospital/proto';
import { FRAME_HEADER_BYTES } from './frame';
import { PartitionLog, type IncomingBatch, type PartitionLogConfig } from './partition-log';

const NOW = 1_763_700_000_000;
const PARTITION = { topic: 'patient.checkout', partition: 0 };
const config: PartitionLogConfig = {
  segmentBytes: 1 << 20,
  indexIntervalBytes: 4096,
  retentionMs: -1,
  retentionBytes: -1,
};

/** A producer's batch of `count` records with values "<label>-<i>". */
function batch(label: string, count = 3, timestamp = NOW): IncomingBatch {
  const records = Array.from({ length: count }, (_, i) => ({
    key: `k${i}`,
    value: `${label}-${i}`,
    timestamp,
  }));
  const encoded = encodeRecordBatch(records, { now: timestamp });
  return {
    bytes: Buffer.from(RecordBatch.encode(encoded).finish()),
    recordCount: count,
    maxTimestampMs: timestamp,
  };
}

/** Every record served from `offset`, decoded as a consumer would. */
function consume(
  log: PartitionLog,
  offset = log.logStartOffset,
): { offset: number; value: string }[] {
  const out: { offset: number; value: string }[] = [];
  let next = offset;
  while (next < log.logEndOffset) {
    const { batches } = log.read(next, 64 * 1024);
    for (const bytes of batches) {
      for (const record of decodeRecordBatch(RecordBatch.decode(bytes))) {
        if (record.offset >= next)
          out.push({ offset: record.offset, value: record.value.toString() });
      }
    }
    next = out.length ? out[out.length - 1].offset + 1 : next;
    if (batches.length === 0) break;
  }
  return out;
}

function catchError(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('broker/storage/PartitionLog', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'partition-log-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('append and read', () => {
    it('gives dense offsets from 0 and serves the records back in order', () => {
      const log = PartitionLog.open(dir, config, PARTITION);
      const results = log.append([batch('a'), batch('b', 2)], NOW);
      expect(results).toEqual([
        { baseOffset: 0, lastOffset: 2, logAppendTimeMs: NOW },
        { baseOffset: 3, lastOffset: 4, logAppendTimeMs: NOW },
      ]);
      expect(log.append([batch('c', 1)], NOW + 1)[0].baseOffset).toBe(5);
      expect(consume(log)).toEqual([
        { offset: 0, value: 'a-0' },
        { offset: 1, value: 'a-1' },
        { offset: 2, value: 'a-2' },
        { offset: 3, value: 'b-0' },
        { offset: 4, value: 'b-1' },
        { offset: 5, value: 'c-0' },
      ]);
      expect(log.logEndOffset).toBe(6);
    });

    it('serves stored batches with the broker-assigned base offset and append time', () => {
      const log = PartitionLog.open(dir, config, PARTITION);
      log.append([batch('a'), batch('b')], NOW + 42);
      expect(log.read(3, 1 << 20).batches).toHaveLength(1);
      const stored = RecordBatch.decode(log.read(3, 1 << 20).batches[0]);
      expect(stored).toMatchObject({ baseOffset: 3, recordCount: 3, logAppendTimeMs: NOW + 42 });
    });

    it('returns the batch holding a mid-batch offset, and nothing at the log end', () => {
      const log = PartitionLog.open(dir, config, PARTITION);
      log.append([batch('a'), batch('b')], NOW);
      expect(RecordBatch.decode(log.read(4, 1 << 20).batches[0]).baseOffset).toBe(3);
      expect(log.read(6, 1 << 20)).toMatchObject({
        batches: [],
        highWatermark: 6,
        logStartOffset: 0,
      });
    });

    it('answers OFFSET_OUT_OF_RANGE with the valid range beyond the log end', () => {
      const log = PartitionLog.open(dir, config, PARTITION);
      log.append([batch('a')], NOW);
      expect(catchError(() => log.read(7, 100))).toMatchObject({
        reason: ErrorReason.OFFSET_OUT_OF_RANGE,
        metadata: { log_start_offset: '0', log_end_offset: '3' },
      });
    });

    it('keeps max bytes but always returns at least one whole batch', () => {
      const log = PartitionLog.open(dir, config, PARTITION);
      log.append([batch('a', 50), batch('b', 50), batch('c', 50)], NOW);
      const one = log.read(0, 10);
      expect(one.batches).toHaveLength(1);
      expect(one.bytes).toBeGreaterThan(10);
      const two = log.read(0, one.bytes * 2 + 1);
      expect(two.batches).toHaveLength(2);
    });
  });

  describe('segments and index', () => {
    it('rolls to a new segment named by its zero-padded base offset', () => {
      const log = PartitionLog.open(dir, { ...config, segmentBytes: 600 }, PARTITION);
      for (let i = 0; i < 30; i++) log.append([batch(`s${i}`, 5)], NOW);
      expect(log.segmentCount).toBeGreaterThan(3);
      const logs = readdirSync(dir).filter((name) => name.endsWith('.log'));
      expect(logs[0]).toBe('00000000000000000000.log');
      expect(logs.every((name) => /^\d{20}\.log$/.test(name))).toBe(true);
      for (const name of logs) expect(statSync(join(dir, name)).size).toBeLessThanOrEqual(600);
      expect(consume(log).map((record) => record.offset)).toEqual(
        Array.from({ length: 150 }, (_, i) => i),
      );
    });

    it('writes a sparse index and finds every offset through it', () => {
      const log = PartitionLog.open(dir, { ...config, indexIntervalBytes: 256 }, PARTITION);
      for (let i = 0; i < 100; i++) log.append([batch(`i${i}`, 2)], NOW);
      const indexBytes = statSync(join(dir, '00000000000000000000.index')).size;
      const logBytes = statSync(join(dir, '00000000000000000000.log')).size;
      expect(indexBytes / 8).toBeGreaterThan(10);
      expect(indexBytes / 8).toBeLessThan(logBytes / 256 + 1);
      for (let offset = 0; offset < 200; offset += 7) {
        const first = RecordBatch.decode(log.read(offset, 1).batches[0]);
        expect(first.baseOffset).toBe(offset - (offset % 2));
      }
    });

    it('reopens after a clean close with the same offsets, trusting the index', async () => {
      const log = PartitionLog.open(
        dir,
        {
          ...config,
          segmentBytes: 3000,
          indexIntervalBytes: 256,
        },
        PARTITION,
      );
      for (let i = 0; i < 40; i++) log.append([batch(`r${i}`, 3)], NOW);
      const before = consume(log);
      await log.close();
      const reopened = PartitionLog.open(
        dir,
        {
          ...config,
          segmentBytes: 3000,
          indexIntervalBytes: 256,
        },
        PARTITION,
      );
      expect(reopened.truncatedOnRecovery).toBe(0);
      expect(consume(reopened)).toEqual(before);
      expect(reopened.append([batch('after', 1)], NOW)[0].baseOffset).toBe(120);
    });
  });

  describe('retention', () => {
    it('deletes whole segments past the size limit and moves the log start', async () => {
      const log = PartitionLog.open(
        dir,
        { ...config, segmentBytes: 2000, retentionBytes: 5000 },
        PARTITION,
      );
      for (let i = 0; i < 40; i++) log.append([batch(`s${i}`, 5)], NOW);
      const segmentsBefore = log.segmentCount;
      const deleted = await log.applyRetention(NOW);
      expect(deleted).toBeGreaterThan(0);
      expect(log.segmentCount).toBe(segmentsBefore - deleted);
      expect(log.sizeBytes).toBeLessThanOrEqual(5000);
      expect(log.logStartOffset).toBeGreaterThan(0);
      expect(log.logEndOffset).toBe(200);
      expect(consume(log)[0].offset).toBe(log.logStartOffset);
      expect(catchError(() => log.read(0, 100))).toMatchObject({
        reason: ErrorReason.OFFSET_OUT_OF_RANGE,
      });
    });

    it('deletes segments whose newest record is older than the retention time, never the active one', async () => {
      const hour = 3_600_000;
      const log = PartitionLog.open(
        dir,
        { ...config, segmentBytes: 1500, retentionMs: hour },
        PARTITION,
      );
      for (let i = 0; i < 10; i++) log.append([batch(`old${i}`, 5, NOW - 3 * hour)], NOW);
      const oldEnd = log.logEndOffset;
      for (let i = 0; i < 10; i++) log.append([batch(`new${i}`, 5, NOW)], NOW);
      await log.applyRetention(NOW);
      expect(log.logStartOffset).toBeGreaterThanOrEqual(oldEnd - 5);
      expect(
        consume(log).every(
          (record) => record.value.startsWith('new') || record.offset >= oldEnd - 5,
        ),
      ).toBe(true);

      await log.applyRetention(NOW + 10 * hour);
      expect(log.segmentCount).toBe(1);
      expect(log.logEndOffset).toBe(100);
    });
  });

  describe('recovery after an unclean stop', () => {
    const onlyLog = () => join(dir, '00000000000000000000.log');

    function writeTenBatches(): number[] {
      const log = PartitionLog.open(dir, config, PARTITION);
      const sizes: number[] = [];
      for (let i = 0; i < 10; i++) {
        const before = statSync(onlyLog()).size;
        log.append([batch(`b${i}`)], NOW);
        sizes.push(statSync(onlyLog()).size - before);
      }
      return sizes; // no close(): as if the broker was killed
    }

    it('truncates a tail torn in the middle of a batch and appends densely after it', () => {
      const sizes = writeTenBatches();
      const fullSize = statSync(onlyLog()).size;
      truncateSync(onlyLog(), fullSize - Math.floor(sizes[9] / 2));

      const log = PartitionLog.open(dir, config, PARTITION);
      expect(log.truncatedOnRecovery).toBe(sizes[9] - Math.floor(sizes[9] / 2));
      expect(log.logEndOffset).toBe(27);
      expect(
        consume(log)
          .map((record) => record.value)
          .slice(-1),
      ).toEqual(['b8-2']);
      expect(log.append([batch('next', 1)], NOW)[0].baseOffset).toBe(27);
      expect(consume(log).map((record) => record.offset)).toEqual(
        Array.from({ length: 28 }, (_, i) => i),
      );
    });

    it('cuts the log at a batch with a flipped byte and never serves it', () => {
      const sizes = writeTenBatches();
      const bytes = readFileSync(onlyLog());
      const fifthStart = sizes.slice(0, 4).reduce((a, b) => a + b, 0);
      bytes[fifthStart + FRAME_HEADER_BYTES + 20] ^= 0x01;
      writeFileSync(onlyLog(), bytes);

      const log = PartitionLog.open(dir, config, PARTITION);
      expect(log.logEndOffset).toBe(12);
      expect(consume(log).map((record) => record.value)).not.toContain('b4-0');
      expect(consume(log)).toHaveLength(12);
    });

    it('refuses to serve a batch corrupted after a clean close, serving those before it', async () => {
      const log = PartitionLog.open(dir, config, PARTITION);
      for (let i = 0; i < 10; i++) log.append([batch(`b${i}`)], NOW);
      await log.close();
      const bytes = readFileSync(onlyLog());
      const middle = Math.floor(bytes.length / 2);
      bytes[middle] ^= 0x40;
      writeFileSync(onlyLog(), bytes);

      const reopened = PartitionLog.open(dir, config, PARTITION);
      const served: string[] = [];
      let offset = 0;
      let failure: unknown;
      while (offset < reopened.logEndOffset && !failure) {
        try {
          const { batches } = reopened.read(offset, 1);
          const records = decodeRecordBatch(RecordBatch.decode(batches[0]));
          served.push(...records.map((record) => record.value.toString()));
          offset = records[records.length - 1].offset + 1;
        } catch (error) {
          failure = error;
        }
      }
      expect(failure).toMatchObject({ reason: ErrorReason.CORRUPT_MESSAGE });
      expect(served.length).toBeGreaterThan(0);
      expect(served.length).toBeLessThan(30);
      expect(served).toEqual(
        Array.from({ length: served.length }, (_, i) => `b${Math.floor(i / 3)}-${i % 3}`),
      );
    });
  });

  describe('durability', () => {
    it('moves the durable end to the log end on sync, sharing one fsync among concurrent callers', async () => {
      const log = PartitionLog.open(dir, config, PARTITION);
      log.append([batch('a')], NOW);
      expect(log.durableEndOffset).toBe(0);
      const first = log.sync();
      log.append([batch('b')], NOW);
      const second = log.sync();
      const third = log.sync();
      await Promise.all([first, second, third]);
      expect(log.durableEndOffset).toBe(6);
    });
  });
});
