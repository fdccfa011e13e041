import { KafkaReader, MalformedKafkaRequest } from './kafka-reader';
import { KafkaWriter } from './kafka-writer';

const flexibleWriter = () => {
  const out = new KafkaWriter();
  out.flexible = true;
  return out;
};
const flexibleReader = (bytes: Buffer) => {
  const reader = new KafkaReader(Buffer.from(bytes));
  reader.flexible = true;
  return reader;
};

describe("Kafka's flexible wire types (KIP-482)", () => {
  it.each([0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_147_483_647])(
    'writes the unsigned varint %d in as few bytes as it needs and reads it back',
    (value) => {
      const out = flexibleWriter().uvarint(value);
      expect(out.length).toBe(Math.max(1, Math.ceil(Math.log2(value + 1) / 7)));
      expect(flexibleReader(out.view()).uvarint()).toBe(value);
    },
  );

  it('gives strings, bytes and arrays a compact length one more than their size, and 0 for null', () => {
    const out = flexibleWriter()
      .string('ward')
      .nullableString(null)
      .bytes(Buffer.from([9, 8]))
      .nullableBytes(null)
      .array([1, 2, 3], (w, n) => w.int32(n))
      .nullableArray(null, () => undefined);
    expect([...out.view()]).toEqual([
      5, 0x77, 0x61, 0x72, 0x64, 0, 3, 9, 8, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0,
    ]);
    const reader = flexibleReader(out.view());
    expect(reader.string()).toBe('ward');
    expect(reader.nullableString()).toBeNull();
    expect([...reader.bytes()]).toEqual([9, 8]);
    expect(reader.nullableBytes()).toBeNull();
    expect(reader.array((r) => r.int32())).toEqual([1, 2, 3]);
    expect(reader.nullableArray((r) => r.int32())).toBeNull();
    expect(reader.remaining).toBe(0);
  });

  it('ends each struct of an array with its tagged fields, and skips tagged fields it does not know', () => {
    const out = flexibleWriter().structs(['a', 'b'], (w, name) => w.string(name));
    expect([...out.view()]).toEqual([3, 2, 0x61, 0, 2, 0x62, 0]);
    // One unknown tagged field (tag 5, three bytes) after the first struct.
    const reader = flexibleReader(Buffer.from([3, 2, 0x61, 1, 5, 3, 7, 7, 7, 2, 0x62, 0]));
    expect(reader.structs((r) => r.string())).toEqual(['a', 'b']);
    expect(reader.remaining).toBe(0);
  });

  it('reads and writes the classic types when not flexible, where structs and tags add nothing', () => {
    const out = new KafkaWriter().structs(['a'], (w, name) => w.string(name)).tags();
    expect([...out.view()]).toEqual([0, 0, 0, 1, 0, 1, 0x61]);
    expect(new KafkaReader(out.view()).structs((r) => r.string())).toEqual(['a']);
  });

  const readString = (r: KafkaReader) => r.string();
  const readUvarint = (r: KafkaReader) => r.uvarint();
  const skipTags = (r: KafkaReader) => r.skipTags();
  it.each([
    ['a compact length past the frame', [10, 0x61], readString],
    ['an unsigned varint longer than 5 bytes', [0xff, 0xff, 0xff, 0xff, 0xff, 0x01], readUvarint],
    ['a tagged field whose size runs past the frame', [1, 0, 9, 1], skipTags],
    ['more tagged fields than bytes left', [100, 0], skipTags],
  ])('refuses %s as a malformed request', (_what, bytes, read) => {
    expect(() => read(flexibleReader(Buffer.from(bytes)))).toThrow(MalformedKafkaRequest);
  });
});
