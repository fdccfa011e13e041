/** A request that does not parse as its API and version says: the connection is closed, as Kafka does. */
export class MalformedKafkaRequest extends Error {}

/**
 * Reads Kafka's wire types from one request body. Every read is
 * bounds-checked: a length that points past the frame, or an array count that
 * could not fit in it, is a MalformedKafkaRequest and never an allocation.
 *
 * In flexible versions (KIP-482) strings, bytes and arrays carry a compact
 * length (an unsigned varint, one more than the length, 0 for null) and every
 * struct ends in tagged fields. The same handler code reads both: set
 * `flexible` once the version is known, and read arrays of structs with
 * `structs`, which skips each item's tagged fields.
 */
export class KafkaReader {
  private position: number;
  /** Compact lengths and tagged fields, as the request's version says. */
  flexible = false;

  constructor(
    private readonly buffer: Buffer,
    start = 0,
  ) {
    this.position = start;
  }

  get offset(): number {
    return this.position;
  }

  get remaining(): number {
    return this.buffer.length - this.position;
  }

  private need(bytes: number, what: string): void {
    if (bytes < 0 || this.position + bytes > this.buffer.length)
      throw new MalformedKafkaRequest(
        `${what} needs ${bytes} bytes at ${this.position} of a ${this.buffer.length}-byte request`,
      );
  }

  int8(): number {
    this.need(1, 'int8');
    return this.buffer.readInt8(this.position++);
  }

  boolean(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    this.need(2, 'int16');
    const value = this.buffer.readInt16BE(this.position);
    this.position += 2;
    return value;
  }

  int32(): number {
    this.need(4, 'int32');
    const value = this.buffer.readInt32BE(this.position);
    this.position += 4;
    return value;
  }

  uint32(): number {
    this.need(4, 'uint32');
    const value = this.buffer.readUInt32BE(this.position);
    this.position += 4;
    return value;
  }

  /** Offsets and timestamps: exact below 2^53, which every offset this broker hands out is. */
  int64(): number {
    this.need(8, 'int64');
    const value = Number(this.buffer.readBigInt64BE(this.position));
    this.position += 8;
    return value;
  }

  /** A zigzag varint (Kafka's record fields). */
  varint(): number {
    const raw = this.base128(10, 'varint');
    // Zigzag: even raw values are non-negative.
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  /** An unsigned varint (compact lengths, tag numbers and sizes): an int32's 5 bytes at most. */
  uvarint(): number {
    return this.base128(5, 'unsigned varint');
  }

  /** Seven bits a byte, least significant first, in at most `maxBytes` bytes. */
  private base128(maxBytes: number, what: string): number {
    let value = 0;
    for (let index = 0; index < maxBytes; index++) {
      this.need(1, what);
      const byte = this.buffer[this.position++];
      value += (byte & 0x7f) * 2 ** (7 * index);
      if ((byte & 0x80) === 0) return value;
    }
    throw new MalformedKafkaRequest(`${what} longer than ${maxBytes} bytes`);
  }

  /** A length prefix: int16 or int32 before flexible versions, a compact one (−1 for null) in them. */
  private lengthPrefix(fixed: 'int16' | 'int32'): number {
    if (this.flexible) return this.uvarint() - 1;
    return fixed === 'int16' ? this.int16() : this.int32();
  }

  /** Skips a struct's tagged fields (flexible versions only): none is one this broker reads. */
  skipTags(): void {
    if (!this.flexible) return;
    const count = this.uvarint();
    this.need(count, 'tagged fields');
    for (let index = 0; index < count; index++) {
      this.uvarint(); // tag
      this.raw(this.uvarint());
    }
  }

  string(): string {
    const value = this.nullableString();
    if (value === null) throw new MalformedKafkaRequest('a required string is null');
    return value;
  }

  nullableString(): string | null {
    const length = this.lengthPrefix('int16');
    if (length < 0) return null;
    this.need(length, 'string');
    const value = this.buffer.toString('utf8', this.position, this.position + length);
    this.position += length;
    return value;
  }

  bytes(): Buffer {
    return this.nullableBytes() ?? Buffer.alloc(0);
  }

  nullableBytes(): Buffer | null {
    const length = this.lengthPrefix('int32');
    if (length < 0) return null;
    return this.raw(length);
  }

  /** `length` bytes as a view into the frame (no copy). */
  raw(length: number): Buffer {
    this.need(length, 'bytes');
    const value = this.buffer.subarray(this.position, this.position + length);
    this.position += length;
    return value;
  }

  array<T>(item: (reader: KafkaReader) => T): T[] {
    return this.nullableArray(item) ?? [];
  }

  nullableArray<T>(item: (reader: KafkaReader) => T): T[] | null {
    const count = this.lengthPrefix('int32');
    if (count < 0) return null;
    // Every item takes at least one byte: a count larger than what is left is a lie.
    this.need(count, 'array');
    const items: T[] = [];
    for (let index = 0; index < count; index++) items.push(item(this));
    return items;
  }

  /** An array of structs: in flexible versions each item ends in tagged fields. */
  structs<T>(item: (reader: KafkaReader) => T): T[] {
    return this.nullableStructs(item) ?? [];
  }

  nullableStructs<T>(item: (reader: KafkaReader) => T): T[] | null {
    return this.nullableArray((reader) => {
      const value = item(reader);
      reader.skipTags();
      return value;
    });
  }
}
