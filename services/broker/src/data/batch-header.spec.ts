import { crc32c, encodeRecordBatch, ErrorReason, RecordBatch } from '@hospital/proto';
import { validateBatch } from './batch-header';

const encode = (batch: RecordBatch) => Buffer.from(RecordBatch.encode(batch).finish());
const good = () =>
  encodeRecordBatch(
    [
      { key: 'a', value: 'one' },
      { value: 'two', timestamp: 2_000 },
    ],
    { now: 1_000 },
  );

function reasonOf(work: () => unknown): ErrorReason | undefined {
  try {
    work();
  } catch (error) {
    return (error as { reason?: ErrorReason }).reason;
  }
  return undefined;
}

describe('broker/data/validateBatch', () => {
  it('reads count and max timestamp without decoding records', () => {
    expect(validateBatch(encode(good()), 'b', 1 << 20)).toMatchObject({
      recordCount: 2,
      maxTimestampMs: 2_000,
    });
  });

  it.each<[string, () => Buffer, ErrorReason]>([
    [
      'bytes that are not a batch',
      () => Buffer.from([0x0a, 0xff, 0xff]),
      ErrorReason.CORRUPT_MESSAGE,
    ],
    [
      'a batch without records',
      () => encode({ ...good(), records: Buffer.alloc(0) }),
      ErrorReason.INVALID_RECORD,
    ],
    [
      'a checksum mismatch',
      () => encode({ ...good(), crc: good().crc ^ 1 }),
      ErrorReason.CORRUPT_MESSAGE,
    ],
    [
      'a record count that does not match',
      () => encode({ ...good(), recordCount: 3 }),
      ErrorReason.INVALID_RECORD,
    ],
    [
      'records that are not a RecordSet',
      () => {
        const records = Buffer.from([0x10, 0x01]);
        return encode({ ...good(), records, crc: crc32c(records) });
      },
      ErrorReason.CORRUPT_MESSAGE,
    ],
    ['a batch over the limit', () => encode(good()), ErrorReason.MESSAGE_TOO_LARGE],
  ])('rejects %s', (title, bytes, reason) => {
    const limit = title.includes('limit') ? 10 : 1 << 20;
    expect(reasonOf(() => validateBatch(bytes(), 'topics[0].partitions[0]', limit))).toBe(reason);
  });
});
