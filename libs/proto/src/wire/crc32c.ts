import { crc32c as nativeCrc32c } from '@node-rs/crc32';

/** CRC-32C (Castagnoli), the checksum Kafka uses for record batches; hardware-accelerated. */
export function crc32c(data: Uint8Array, initial = 0): number {
  return (
    nativeCrc32c(
      Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
      initial,
    ) >>> 0
  );
}
