import { gzipSync } from 'node:zlib';
import { crc32c, RecordBatch, RecordSet } from '@hospital/proto';
import { KafkaErrorCode } from './error-codes';
import { KafkaWriter } from './kafka-writer';
import {
  decodeKafkaBatches,
  headerFor,
  writeKafkaBatch,
  type KafkaRecord,
} from './record-batch-v2';
import { toStoredBatch, writeStoredBatch } from './transcode';

const records: (KafkaRecord & { offsetDelta: number })[] = [
  {
    offsetDelta: 0,
    timestamp: 1_790_000_000_000,
    key: Buffer.from('p-1'),
    value: Buffer.from('a'),
    headers: [],
  },
  {
    offsetDelta: 1,
    timestamp: 1_790_000_000_250,
    key: null,
    value: Buffer.from('é'.repeat(300)),
    headers: [
      { key: 'trace', value: Buffer.from('1') },
      { key: 'trace', value: Buffer.from('2') },
    ],
  },
  {
    offsetDelta: 2,
    timestamp: 1_789_999_999_000,
    key: Buffer.from('p-2'),
    value: null,
    headers: [{ key: 'h', value: null }],
  },
];

function encoded(): Buffer {
  const out = new KafkaWriter();
  writeKafkaBatch(out, headerFor(40, records), records);
  return Buffer.from(out.view());
}

/** Rewrites a batch's records region gzip-compressed, as a Kafka producer with compression gzip sends it. */
function gzipped(batch: Buffer): Buffer {
  const head = Buffer.from(batch.subarray(0, 61));
  const compressed = gzipSync(batch.subarray(61));
  head.writeInt16BE(1, 21); // attributes: gzip
  const whole = Buffer.concat([head, compressed]);
  whole.writeInt32BE(whole.length - 12, 8);
  whole.writeUInt32BE(crc32c(whole.subarray(21)), 17);
  return whole;
}

describe('broker/kafka: record batches v2', () => {
  const plain = (batch: KafkaRecord[]) =>
    batch.map(({ timestamp, key, value, headers }) => ({ timestamp, key, value, headers }));

  it('reads back what it writes: null keys and values, repeated header keys, times before the base', () => {
    const [batch] = decodeKafkaBatches(encoded());
    expect(batch.baseOffset).toBe(40);
    expect(plain(batch.records)).toEqual(plain(records));
  });

  it('inflates gzip batches, and refuses codecs Node does not ship with UNSUPPORTED_COMPRESSION_TYPE', () => {
    expect(plain(decodeKafkaBatches(gzipped(encoded()))[0].records)).toEqual(plain(records));
    const lz4 = gzipped(encoded());
    lz4.writeInt16BE(3, 21);
    lz4.writeUInt32BE(crc32c(lz4.subarray(21)), 17);
    expect(() => decodeKafkaBatches(lz4)).toThrow(
      expect.objectContaining({ code: KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE }),
    );
  });

  it('refuses a flipped bit (CORRUPT_MESSAGE), old magic (UNSUPPORTED_FOR_MESSAGE_FORMAT) and a truncated batch', () => {
    const flipped = encoded();
    flipped[flipped.length - 3] ^= 0x01;
    expect(() => decodeKafkaBatches(flipped)).toThrow(
      expect.objectContaining({ code: KafkaErrorCode.CORRUPT_MESSAGE }),
    );
    const old = encoded();
    old.writeInt8(1, 16);
    expect(() => decodeKafkaBatches(old)).toThrow(
      expect.objectContaining({ code: KafkaErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT }),
    );
    expect(() => decodeKafkaBatches(encoded().subarray(0, 70))).toThrow(
      expect.objectContaining({ code: KafkaErrorCode.CORRUPT_MESSAGE }),
    );
  });

  it('transcodes into the stored RecordBatch and back without losing a key, header or time', () => {
    const [batch] = decodeKafkaBatches(encoded());
    const stored = toStoredBatch(batch, 'kafka-client');
    const decoded = RecordBatch.decode(stored);
    expect(decoded).toMatchObject({
      recordCount: 3,
      producerId: 'kafka-client',
      maxTimestampMs: 1_790_000_000_250,
    });
    expect(crc32c(decoded.records)).toBe(decoded.crc);
    expect(RecordSet.decode(decoded.records).records[1].headers.map((h) => h.key)).toEqual([
      'trace',
      'trace',
    ]);
    const out = new KafkaWriter();
    writeStoredBatch(out, stored, true);
    const [back] = decodeKafkaBatches(Buffer.from(out.view()));
    // A null header value is stored empty; on a compacted topic an empty value is served as null (a tombstone).
    expect(plain(back.records)).toEqual(
      plain(records).map((r) => ({
        ...r,
        headers: r.headers.map((h) => ({ ...h, value: h.value ?? Buffer.alloc(0) })),
      })),
    );
  });
});
