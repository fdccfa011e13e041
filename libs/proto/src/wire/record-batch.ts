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
