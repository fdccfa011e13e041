import { crc32c } from '@hospital/proto';

// On-disk frame around one stored batch:
//   0  u32  payload length
//   4  u32  CRC-32C of bytes 8..end (the rest of the header and the payload)
//   8  i64  base offset
//  16  u32  record count
//  20  i64  max timestamp (ms)
//  28  payload: the RecordBatch bytes exactly as served to consumers
// The frame checksum covers the broker's stamp and the producer's bytes, so a
// torn write or a flipped bit anywhere in a frame is caught before serving.

export const FRAME_HEADER_BYTES = 28;

export interface FrameHeader {
  payloadLength: number;
  crc: number;
  baseOffset: number;
  recordCount: number;
  maxTimestampMs: number;
}

export function frameLength(header: FrameHeader): number {
  return FRAME_HEADER_BYTES + header.payloadLength;
}

export function lastOffsetOf(header: FrameHeader): number {
  return header.baseOffset + header.recordCount - 1;
}

export function encodeFrameHeader(
  baseOffset: number,
  recordCount: number,
  maxTimestampMs: number,
  payload: Buffer,
): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(payload.length, 0);
  header.writeBigInt64BE(BigInt(baseOffset), 8);
  header.writeUInt32BE(recordCount, 16);
  header.writeBigInt64BE(BigInt(maxTimestampMs), 20);
  header.writeUInt32BE(crc32c(payload, crc32c(header.subarray(8))), 4);
  return header;
}

/** Reads a frame header at `position`; undefined when fewer than a header's bytes remain. */
export function readFrameHeader(buffer: Buffer, position: number): FrameHeader | undefined {
  if (buffer.length - position < FRAME_HEADER_BYTES) return undefined;
  return {
    payloadLength: buffer.readUInt32BE(position),
    crc: buffer.readUInt32BE(position + 4),
    baseOffset: Number(buffer.readBigInt64BE(position + 8)),
    recordCount: buffer.readUInt32BE(position + 16),
    maxTimestampMs: Number(buffer.readBigInt64BE(position + 20)),
  };
}

/** True when the whole frame is in `buffer` and its checksum matches. */
export function isFrameIntact(buffer: Buffer, position: number, header: FrameHeader): boolean {
  const end = position + frameLength(header);
  if (end > buffer.length || header.recordCount < 1) return false;
  return crc32c(buffer.subarray(position + 8, end)) === header.crc;
}
