import { RecordBatch } from '../generated/hospital/broker/v1/records';
import fc from 'fast-check';
import {
  batchOverheadUpperBound,
  decodeRecordBatch,
  encodeRecordBatch,
  isBatchIntact,
  recordSizeUpperBound,
  type OutgoingRecord,
} from './record-batch';

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

  it("bounds a batch's encoded size from above by its records' sizes, headers included, within 40 bytes a record", () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 300 });
    const record: fc.Arbitrary<OutgoingRecord> = fc.record({
      key: fc.option(text, { nil: null }),
      value: fc.oneof(text, fc.uint8Array({ maxLength: 2_000 })),
      headers: fc.dictionary(text, text, { maxKeys: 4 }),
      timestamp: fc.integer({ min: now - 86_400_000, max: now + 86_400_000 }),
    });
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 40 }),
        text,
        (records, producerId) => {
          const encoded = RecordBatch.encode(
            encodeRecordBatch(records, { producerId, now }),
          ).finish();
          const bound =
            batchOverheadUpperBound(producerId) +
            records.reduce((sum, one) => sum + recordSizeUpperBound(one), 0);
          expect(encoded.length).toBeLessThanOrEqual(bound);
          expect(bound - encoded.length).toBeLessThanOrEqual(70 + 40 * records.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
