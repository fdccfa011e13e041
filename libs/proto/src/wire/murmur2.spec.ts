import { murmur2, partitionForKey } from './murmur2';

describe('proto/wire/murmur2', () => {
  // Values printed by Kafka's own Utils.murmur2 (Java), as KafkaJS's tests record them.
  it.each([
    ['0', 971027396],
    ['1', -1993445489],
    ['128', -326012175],
    ['2187', -1508407203],
    ['16384', -325739742],
    ['78125', -1654490814],
    ['279936', 1462227128],
    ['823543', -2014198330],
  ])('hashes "%s" exactly as the Java client does', (key, expected) => {
    expect(murmur2(Buffer.from(key))).toBe(expected);
  });

  it('maps a key to toPositive(murmur2) % partitions, stable across calls', () => {
    expect(partitionForKey('1', 4)).toBe((-1993445489 & 0x7fffffff) % 4);
    expect(partitionForKey('P-0091827', 4)).toBe(partitionForKey(Buffer.from('P-0091827'), 4));
  });

  it('spreads many keys over every partition', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[partitionForKey(`patient-${i}`, 4)]++;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => partitionForKey('k', 0)).toThrow(RangeError);
  });
});
