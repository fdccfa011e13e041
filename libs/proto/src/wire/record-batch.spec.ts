import { RecordBatch } from '../generated/hospital/broker/v1/records';
import { decodeRecordBatch, encodeRecordBatch, isBatchIntact } from './record-batch';

describe('proto/wire/record-batch', () => {
  const now = 1_763_700_000_000;

  it('round-trips keys, values, headers and timestamps through the wire form', () => {
    const batch = encodeRecordBatch(
      [
        { key: 'P-1', value: 'first', headers: { source: 'checkout' }, timestamp: now },
        { key: null, value: Buffer.from([0, 1, 2]), timestamp: now + 5 },
      ],
      { producerId: 'checkout-1', now },
    );
    const wire = RecordBatch.encode({ ...batch, baseOffset: 40 }).finish();
    const records = decodeRecordBatch(RecordBatch.decode(wire));
    expect(records).toEqual([
      {
        offset: 40,
        timestamp: now,
        key: Buffer.from('P-1'),
        value: Buffer.from('first'),
        headers: { source: Buffer.from('checkout') },
      },
      { offset: 41, timestamp: now + 5, key: null, value: Buffer.from([0, 1, 2]), headers: {} },
    ]);
    expect(batch).toMatchObject({ recordCount: 2, baseTimestampMs: now, maxTimestampMs: now + 5 });
  });

  it('lets a field appended after the producer bytes override the base offset (how the broker stamps batches)', () => {
    const producerBytes = Buffer.from(
      RecordBatch.encode(encodeRecordBatch([{ value: 'v' }], { now })).finish(),
    );
    const stamp = Buffer.from(
      RecordBatch.encode({ ...RecordBatch.fromPartial({}), baseOffset: 1234 }).finish(),
    );
    const stored = RecordBatch.decode(Buffer.concat([producerBytes, stamp]));
    expect(stored.baseOffset).toBe(1234);
    expect(decodeRecordBatch(stored)[0].offset).toBe(1234);
  });

  it('detects a flipped byte in the records', () => {
    const batch = encodeRecordBatch([{ value: 'payload' }], { now });
    batch.records[batch.records.length - 1] ^= 0xff;
    expect(isBatchIntact(batch)).toBe(false);
    expect(() => decodeRecordBatch(batch)).toThrow(/checksum/);
  });

  it('refuses an empty batch', () => {
    expect(() => encodeRecordBatch([])).toThrow(RangeError);
  });
});
