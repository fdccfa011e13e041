/**
 * Writes Kafka's wire types into a buffer that grows as needed. With
 * `flexible` set (KIP-482 versions) strings, bytes and arrays get compact
 * lengths, and `structs` and `tags` end each struct with empty tagged fields.
 */
export class KafkaWriter {
  private buffer: Buffer;
  private position = 0;
  /** Compact lengths and tagged fields, as the response's version says. */
  flexible = false;

  constructor(initialBytes = 256) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.position;
  }

  private room(bytes: number): void {
    if (this.position + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.position + bytes));
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
  }

  int8(value: number): this {
    this.room(1);
    this.buffer.writeInt8(value, this.position++);
    return this;
  }

  boolean(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  int16(value: number): this {
    this.room(2);
    this.buffer.writeInt16BE(value, this.position);
    this.position += 2;
    return this;
  }

  int32(value: number): this {
    this.room(4);
    this.buffer.writeInt32BE(value, this.position);
    this.position += 4;
    return this;
  }

  uint32(value: number): this {
    this.room(4);
    this.buffer.writeUInt32BE(value >>> 0, this.position);
    this.position += 4;
    return this;
  }

  int64(value: number): this {
    this.room(8);
    this.buffer.writeBigInt64BE(BigInt(value), this.position);
    this.position += 8;
    return this;
  }

  /** A zigzag varint. */
  varint(value: number): this {
    let raw = value >= 0 ? value * 2 : -value * 2 - 1;
    this.room(10);
    while (raw >= 0x80) {
      this.buffer[this.position++] = (raw % 0x80) | 0x80;
      raw = Math.floor(raw / 0x80);
    }
    this.buffer[this.position++] = raw;
    return this;
  }

  /** An unsigned varint (compact lengths, tag counts). */
  uvarint(value: number): this {
    let rest = value;
    this.room(5);
    while (rest >= 0x80) {
      this.buffer[this.position++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.buffer[this.position++] = rest;
    return this;
  }

  /** A length prefix: int16 or int32 before flexible versions, compact (−1 for null) in them. */
  private lengthPrefix(value: number, fixed: 'int16' | 'int32'): this {
    if (this.flexible) return this.uvarint(value + 1);
    return fixed === 'int16' ? this.int16(value) : this.int32(value);
  }

  /** Ends a struct in flexible versions: no tagged fields. */
  tags(): this {
    return this.flexible ? this.uvarint(0) : this;
  }

  string(value: string): this {
    return this.nullableString(value);
  }

  nullableString(value: string | null): this {
    if (value === null) return this.lengthPrefix(-1, 'int16');
    const length = Buffer.byteLength(value, 'utf8');
    this.lengthPrefix(length, 'int16');
    this.room(length);
    this.buffer.write(value, this.position, 'utf8');
    this.position += length;
    return this;
  }

  bytes(value: Uint8Array): this {
    return this.nullableBytes(value);
  }

  nullableBytes(value: Uint8Array | null): this {
    if (value === null) return this.lengthPrefix(-1, 'int32');
    this.lengthPrefix(value.length, 'int32');
    return this.raw(value);
  }

  raw(value: Uint8Array): this {
    this.room(value.length);
    this.buffer.set(value, this.position);
    this.position += value.length;
    return this;
  }

  array<T>(items: readonly T[], item: (writer: this, value: T) => void): this {
    this.lengthPrefix(items.length, 'int32');
    for (const value of items) item(this, value);
    return this;
  }

  nullableArray<T>(items: readonly T[] | null, item: (writer: this, value: T) => void): this {
    if (items === null) return this.lengthPrefix(-1, 'int32');
    return this.array(items, item);
  }

  /** An array of structs: in flexible versions each item ends in (empty) tagged fields. */
  structs<T>(items: readonly T[], item: (writer: this, value: T) => void): this {
    return this.array(items, (writer, value) => {
      item(writer, value);
      writer.tags();
    });
  }

  /** Starts again from empty, keeping the buffer. */
  reset(): void {
    this.position = 0;
  }

  patchUint32(at: number, value: number): void {
    this.buffer.writeUInt32BE(value >>> 0, at);
  }

  /** Overwrites an int32 written earlier (a length prefix known only at the end). */
  patchInt32(at: number, value: number): void {
    this.buffer.writeInt32BE(value, at);
  }

  /** The bytes written so far (a view: copy before writing more). */
  view(start = 0, end = this.position): Buffer {
    return this.buffer.subarray(start, end);
  }
}
