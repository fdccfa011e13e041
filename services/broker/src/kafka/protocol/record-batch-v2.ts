import { gunzipSync } from 'node:zlib';
import { crc32c } from '@hospital/proto';
import { KafkaReader, MalformedKafkaRequest } from './kafka-reader';
import { KafkaWriter } from './kafka-writer';
import { KafkaErrorCode, KafkaRefusal } from './error-codes';

/** One record as Kafka's v2 format carries it; null key and value are Kafka's "absent". */
export interface KafkaRecord {
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

export interface KafkaBatch {
  baseOffset: number;
  records: KafkaRecord[];
}

// Byte positions inside a v2 batch (KIP-98's layout).
const BATCH_OVERHEAD = 61; // baseOffset .. records count
const LENGTH_OFFSET = 8;
const MAGIC_OFFSET = 16;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const COMPRESSION_MASK = 0x07;
const TRANSACTIONAL_FLAG = 0x10;
const CONTROL_FLAG = 0x20;
const GZIP = 1;
const COMPRESSION_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
/** Most records a decompressed batch may hold: a small gzip bomb must not become a huge allocation. */
const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/**
 * Decodes the record batches of a Produce partition: magic 2 only, each
 * CRC-32C checked, gzip inflated (the one codec Node ships that Kafka
 * clients use by default); control and transactional batches are refused,
 * as transactions are out of scope.
 */
export function decodeKafkaBatches(bytes: Buffer): KafkaBatch[] {
  const batches: KafkaBatch[] = [];
  let position = 0;
  while (position < bytes.length) {
    if (bytes.length - position < BATCH_OVERHEAD)
      throw new KafkaRefusal(
        KafkaErrorCode.CORRUPT_MESSAGE,
        `${bytes.length - position} trailing bytes are too few for a record batch`,
      );
    const batchLength = bytes.readInt32BE(position + LENGTH_OFFSET);
    const end = position + 12 + batchLength;
    if (batchLength < BATCH_OVERHEAD - 12 || end > bytes.length)
      throw new KafkaRefusal(
        KafkaErrorCode.CORRUPT_MESSAGE,
        `batch length ${batchLength} does not fit the ${bytes.length - position} bytes left`,
      );
    const magic = bytes.readInt8(position + MAGIC_OFFSET);
    if (magic !== 2)
      throw new KafkaRefusal(
        KafkaErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
        `record batch magic ${magic}: this broker takes magic 2 (Kafka 0.11+) only`,
      );
    const crc = bytes.readUInt32BE(position + CRC_OFFSET);
    if (crc32c(bytes.subarray(position + ATTRIBUTES_OFFSET, end)) !== crc)
      throw new KafkaRefusal(
        KafkaErrorCode.CORRUPT_MESSAGE,
        'record batch failed its CRC-32C checksum',
      );
    batches.push(decodeOne(bytes.subarray(position, end)));
    position = end;
  }
  if (batches.length === 0)
    throw new KafkaRefusal(KafkaErrorCode.INVALID_RECORD, 'the partition carries no records');
  return batches;
}

function decodeOne(batch: Buffer): KafkaBatch {
  const reader = new KafkaReader(batch);
  const baseOffset = reader.int64();
  reader.int32(); // batch length, checked by the caller
  reader.int32(); // partition leader epoch
  reader.int8(); // magic
  reader.uint32(); // crc
  const attributes = reader.int16();
  reader.int32(); // last offset delta
  const baseTimestamp = reader.int64();
  reader.int64(); // max timestamp
  reader.int64(); // producer id: no idempotence here
  reader.int16(); // producer epoch
  reader.int32(); // base sequence
  const count = reader.int32();
  if (attributes & (TRANSACTIONAL_FLAG | CONTROL_FLAG))
    throw new KafkaRefusal(
      KafkaErrorCode.INVALID_RECORD,
      'transactional and control batches are not supported by this broker',
    );
  const codec = attributes & COMPRESSION_MASK;
  let records = reader.raw(reader.remaining);
  if (codec === GZIP) records = inflate(records);
  else if (codec !== 0)
    throw new KafkaRefusal(
      KafkaErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
      `compression ${COMPRESSION_NAMES[codec] ?? codec} is not supported: use none or gzip`,
    );
  if (count < 1 || count > records.length)
    throw new KafkaRefusal(
      KafkaErrorCode.INVALID_RECORD,
      `record count ${count} does not fit ${records.length} bytes of records`,
    );
  const recordReader = new KafkaReader(records);
  const decoded: KafkaRecord[] = [];
  try {
    for (let index = 0; index < count; index++)
      decoded.push(decodeRecord(recordReader, baseTimestamp));
  } catch (error) {
    if (!(error instanceof MalformedKafkaRequest)) throw error;
    throw new KafkaRefusal(KafkaErrorCode.CORRUPT_MESSAGE, `records: ${error.message}`);
  }
  if (recordReader.remaining !== 0)
    throw new KafkaRefusal(
      KafkaErrorCode.CORRUPT_MESSAGE,
      `${recordReader.remaining} bytes follow the batch's ${count} records`,
    );
  return { baseOffset, records: decoded };
}

function inflate(records: Buffer): Buffer {
  try {
    return gunzipSync(records, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
  } catch (error) {
    throw new KafkaRefusal(
      KafkaErrorCode.CORRUPT_MESSAGE,
      `gzip records do not inflate: ${(error as Error).message}`,
    );
  }
}

function decodeRecord(reader: KafkaReader, baseTimestamp: number): KafkaRecord {
  const length = reader.varint();
  const start = reader.offset;
  reader.int8(); // attributes, unused in v2
  const timestamp = baseTimestamp + reader.varint();
  reader.varint(); // offset delta: records are renumbered in order
  const key = varBytes(reader);
  const value = varBytes(reader);
  const headerCount = reader.varint();
  if (headerCount < 0 || headerCount > reader.remaining)
    throw new MalformedKafkaRequest(`header count ${headerCount}`);
  const headers: KafkaRecord['headers'] = [];
  for (let index = 0; index < headerCount; index++) {
    const name = varBytes(reader);
    if (name === null) throw new MalformedKafkaRequest('a header has a null key');
    headers.push({ key: name.toString('utf8'), value: varBytes(reader) });
  }
  if (reader.offset - start !== length)
    throw new MalformedKafkaRequest(`record length ${length} but ${reader.offset - start} read`);
  return { timestamp, key, value, headers };
}

function varBytes(reader: KafkaReader): Buffer | null {
  const length = reader.varint();
  return length < 0 ? null : reader.raw(length);
}

/** What a v2 batch says of itself besides its records. */
export interface KafkaBatchHeader {
  baseOffset: number;
  /**
   * The batch's offset span less one. After compaction it runs past the last
   * record kept (or stands alone in an empty batch), so a consumer resumes
   * after the whole batch instead of fetching its gap again.
   */
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
}

/** The header of a batch that holds exactly these records, from the first offset on. */
export function headerFor(
  baseOffset: number,
  records: readonly { offsetDelta: number; timestamp: number }[],
): KafkaBatchHeader {
  let maxTimestamp = records[0].timestamp;
  for (const record of records)
    if (record.timestamp > maxTimestamp) maxTimestamp = record.timestamp;
  return {
    baseOffset,
    lastOffsetDelta: records[records.length - 1].offsetDelta,
    baseTimestamp: records[0].timestamp,
    maxTimestamp,
  };
}

/**
 * Writes one uncompressed v2 batch: create-time timestamps, no producer id
 * (-1), partition leader epoch 0, and its CRC-32C over attributes..end.
 * Record times are written relative to the header's base timestamp.
 */
export function writeKafkaBatch(
  out: KafkaWriter,
  header: KafkaBatchHeader,
  records: readonly {
    offsetDelta: number;
    timestamp: number;
    key: Buffer | null;
    value: Buffer | null;
    headers: { key: string; value: Buffer | null }[];
  }[],
): void {
  const start = out.length;
  const baseTimestamp = header.baseTimestamp;
  out.int64(header.baseOffset).int32(0).int32(0).int8(2).uint32(0);
  const crcFrom = out.length;
  out
    .int16(0)
    .int32(header.lastOffsetDelta)
    .int64(baseTimestamp)
    .int64(header.maxTimestamp)
    .int64(-1)
    .int16(-1)
    .int32(-1)
    .int32(records.length);
  const body = new KafkaWriter(64);
  for (const record of records) {
    body
      .int8(0)
      .varint(record.timestamp - baseTimestamp)
      .varint(record.offsetDelta);
    writeVarBytes(body, record.key);
    writeVarBytes(body, record.value);
    body.varint(record.headers.length);
    for (const header of record.headers) {
      writeVarBytes(body, Buffer.from(header.key, 'utf8'));
      writeVarBytes(body, header.value);
    }
    out.varint(body.length).raw(body.view());
    body.reset();
  }
  const end = out.length;
  out.patchInt32(start + LENGTH_OFFSET, end - start - 12);
  out.patchUint32(start + CRC_OFFSET, crc32c(out.view(crcFrom, end)));
}

function writeVarBytes(out: KafkaWriter, value: Buffer | null): void {
  if (value === null) out.varint(-1);
  else out.varint(value.length).raw(value);
}
