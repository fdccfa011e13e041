import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { crc32c, ErrorReason } from '@hospital/proto';
import { BrokerError } from '../errors/broker-error';
import type { IncomingBatch } from '../storage/partition-log';

/**
 * Reads what the broker needs from a producer's RecordBatch bytes without
 * decoding a single record: the header fields, and the `records` region,
 * whose checksum is verified and whose top-level entries are counted by
 * skipping (tag and length only) to check record_count.
 */
export function validateBatch(bytes: Buffer, where: string, maxBatchBytes: number): IncomingBatch {
  if (bytes.length > maxBatchBytes) {
    throw new BrokerError(
      ErrorReason.MESSAGE_TOO_LARGE,
      `${where}: batch of ${bytes.length} bytes exceeds the limit of ${maxBatchBytes} bytes`,
      { max_batch_bytes: String(maxBatchBytes) },
    );
  }
  let recordCount = 0;
  let maxTimestampMs = 0;
  let crc = 0;
  let records: Uint8Array | undefined;
  try {
    const reader = new BinaryReader(bytes);
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === 2 && wireType === WireType.Varint) recordCount = reader.int32();
      else if (field === 4 && wireType === WireType.Varint) maxTimestampMs = Number(reader.int64());
      else if (field === 5 && wireType === WireType.Bit32) crc = reader.fixed32();
      else if (field === 15 && wireType === WireType.LengthDelimited) records = reader.bytes();
      else reader.skip(wireType, field);
    }
  } catch (error) {
    throw new BrokerError(
      ErrorReason.CORRUPT_MESSAGE,
      `${where}: batch is not a valid RecordBatch`,
      {},
      { cause: error },
    );
  }
  if (!records || records.length === 0) {
    throw new BrokerError(ErrorReason.INVALID_RECORD, `${where}: batch has no records`);
  }
  if (crc32c(records) !== crc >>> 0) {
    throw new BrokerError(
      ErrorReason.CORRUPT_MESSAGE,
      `${where}: records failed their CRC-32C checksum`,
    );
  }
  const counted = countRecords(records, where);
  if (recordCount !== counted) {
    throw new BrokerError(
      ErrorReason.INVALID_RECORD,
      `${where}: record_count says ${recordCount} but the batch holds ${counted} records`,
    );
  }
  if (maxTimestampMs < 0) {
    throw new BrokerError(ErrorReason.INVALID_TIMESTAMP, `${where}: max_timestamp_ms is negative`);
  }
  return { bytes, recordCount, maxTimestampMs };
}

/** Counts the LogRecord entries of an encoded RecordSet by skipping over them. */
function countRecords(records: Uint8Array, where: string): number {
  const reader = new BinaryReader(records);
  let count = 0;
  try {
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field !== 1 || wireType !== WireType.LengthDelimited) {
        throw new Error(`unexpected field ${field}`);
      }
      reader.skip(wireType, field);
      count++;
    }
  } catch (error) {
    throw new BrokerError(
      ErrorReason.CORRUPT_MESSAGE,
      `${where}: records are not a valid RecordSet`,
      {},
      { cause: error },
    );
  }
  return count;
}
