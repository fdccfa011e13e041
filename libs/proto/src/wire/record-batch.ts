import { crc32c } from './crc32c';
import { RecordBatch, RecordSet, type LogRecord } from '../generated/hospital/broker/v1/records';

/** A record as a producer hands it over. */
export interface OutgoingRecord {
  key?: Uint8Array | string | null;
  value: Uint8Array | string | null;
  headers?: { [key: string]: Uint8Array | string };
  /** Create time, ms since epoch; defaults to now. */
  timestamp?: number;
}

/** A record as a consumer sees it. */
export interface IncomingRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer;
  headers: { [key: string]: Buffer };
}

const toBuffer = (data: Uint8Array | string): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength);

/**
 * Encodes records into one batch, ready for a ProduceRequest: the records are
 * encoded once, checksummed, and never re-encoded by the broker.
 */
export function encodeRecordBatch(
  records: readonly OutgoingRecord[],
  options: { producerId?: string; now?: number } = {},
): RecordBatch {
  if (records.length === 0) throw new RangeError('a record batch needs at least one record');
  const now = options.now ?? Date.now();
  const timestamps = records.map((record) => record.timestamp ?? now);
  const baseTimestampMs = timestamps[0];
  const logRecords: LogRecord[] = records.map((record, index) => ({
    offsetDelta: index,
    timestampDelta: timestamps[index] - baseTimestampMs,
    key: record.key == null ? undefined : toBuffer(record.key),
    value: record.value == null ? Buffer.alloc(0) : toBuffer(record.value),
    headers: Object.entries(record.headers ?? {}).map(([key, value]) => ({
      key,
      value: toBuffer(value),
    })),
  }));
  const encoded = Buffer.from(RecordSet.encode({ records: logRecords }).finish());
  return {
    baseOffset: 0,
    recordCount: records.length,
    baseTimestampMs,
    maxTimestampMs: Math.max(...timestamps),
    crc: crc32c(encoded),
    logAppendTimeMs: 0,
    producerId: options.producerId ?? '',
    records: encoded,
  };
}

const varintBytes = (value: number): number => {
  let bytes = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    bytes++;
  }
  return bytes;
};
const byteLength = (data: Uint8Array | string): number =>
  typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.byteLength;
/** Tag, length prefix and payload of a length-delimited field. */
const delimited = (length: number): number => 1 + varintBytes(length) + length;

/**
 * The most bytes `record` adds to an encoded batch: exact for key, value and
 * headers, and the widest varints for its offset and timestamp deltas (which
 * depend on its place in the batch). A producer that sums these never builds
 * a batch over the broker's limit.
 */
export function recordSizeUpperBound(record: OutgoingRecord): number {
  let body = 1 + 5 + 1 + 10; // offset_delta (int32) and timestamp_delta (int64), widest
  if (record.key != null) body += delimited(byteLength(record.key));
  if (record.value != null) body += delimited(byteLength(record.value));
  for (const [key, value] of Object.entries(record.headers ?? {}))
    body += delimited(delimited(byteLength(key)) + delimited(byteLength(value)));
  return delimited(body);
}

/**
 * The most bytes a batch adds around its records: the header fields, the
 * producer id and the `records` field's tag and length prefix.
 */
export function batchOverheadUpperBound(producerId: string): number {
  return 11 + 6 + 11 + 11 + 5 + 11 + delimited(byteLength(producerId)) + 2 + 5;
}

/** True when the batch's records still match the producer's checksum. */
export function isBatchIntact(batch: RecordBatch): boolean {
  return crc32c(batch.records) === batch.crc >>> 0;
}

/** The records of a batch with their absolute offsets and timestamps. */
export function decodeRecordBatch(batch: RecordBatch): IncomingRecord[] {
  if (!isBatchIntact(batch)) {
    throw new Error(`record batch at offset ${batch.baseOffset} failed its checksum`);
  }
  return RecordSet.decode(batch.records).records.map((record) => ({
    offset: batch.baseOffset + record.offsetDelta,
    timestamp: batch.baseTimestampMs + record.timestampDelta,
    key: record.key ?? null,
    value: record.value,
    headers: Object.fromEntries(record.headers.map((header) => [header.key, header.value])),
  }));
}
