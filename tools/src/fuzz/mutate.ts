/**
 * Seeded random generation of hostile inputs: extreme values shaped like a
 * valid template (same keys, same JS types), and raw byte damage.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  /** mulberry32: small, fast, and the same sequence for the same seed. */
  next(): number {
    let t = (this.state += 0x6d2b79f5);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(values: readonly T[]): T {
    return values[this.int(values.length)];
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let index = 0; index < length; index++) out[index] = this.int(256);
    return out;
  }
}

const EXTREME_NUMBERS = [
  0,
  -1,
  1,
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 32,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  1e300,
  -0.5,
  3.7,
];

function extremeString(random: Random): string {
  return random.pick([
    () => '',
    () => ' ',
    () => 'x'.repeat(1 + random.int(300_000)),
    () => '../../etc/passwd',
    () => '\u0000\u0001\uffff',
    () => '🏥'.repeat(1 + random.int(2_000)),
    () => '__consumer_offsets',
    () => 'patient.checkout',
    () => "'; DROP TABLE billing.invoice; --",
    () => '\ud800', // a lone surrogate
    () => random.bytes(1 + random.int(64)).toString('latin1'),
  ])();
}

/** A value of the same JS shape as `template`, pushed to extremes. */
export function mutateLike(template: unknown, random: Random, depth = 0): unknown {
  if (depth > 6) return template;
  if (typeof template === 'number')
    return random.chance(0.7) ? random.pick(EXTREME_NUMBERS) : template;
  if (typeof template === 'string') return random.chance(0.6) ? extremeString(random) : template;
  if (typeof template === 'boolean') return random.chance(0.5) ? !template : template;
  if (Buffer.isBuffer(template) || template instanceof Uint8Array)
    return random.pick([
      () => Buffer.alloc(0),
      () => random.bytes(1 + random.int(4_096)),
      () => {
        const copy = Buffer.from(template);
        if (copy.length > 0) copy[random.int(copy.length)] ^= 1 << random.int(8);
        return copy;
      },
      () => Buffer.from(template).subarray(0, random.int(template.length + 1)),
    ])();
  if (template instanceof Date)
    return random.pick([new Date(0), new Date(8.64e15), new Date(-8.64e15), template]);
  if (Array.isArray(template)) {
    if (template.length === 0) return template;
    const element = template[0] as unknown;
    return random.pick([
      () => [],
      () => template.map((item) => mutateLike(item, random, depth + 1)),
      () =>
        Array.from({ length: 1 + random.int(3_000) }, () => mutateLike(element, random, depth + 1)),
      () => [...template, ...template],
    ])();
  }
  if (template && typeof template === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(template))
      out[key] = random.chance(0.5) ? mutateLike(value, random, depth + 1) : value;
    return out;
  }
  return template;
}

/** Raw damage to a valid encoding: flipped bits, truncation, garbage, repetition. */
export function damageBytes(valid: Buffer, random: Random): Buffer {
  return random.pick([
    () => random.bytes(random.int(512)),
    () => valid.subarray(0, random.int(valid.length + 1)),
    () => {
      const copy = Buffer.from(valid);
      for (let flips = 1 + random.int(8); flips > 0 && copy.length > 0; flips--)
        copy[random.int(copy.length)] ^= 1 << random.int(8);
      return copy;
    },
    () => Buffer.concat([valid, random.bytes(1 + random.int(64))]),
    () => Buffer.concat(Array.from({ length: 2 + random.int(20) }, () => valid)),
    // A field header claiming a length far past the end.
    () => Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x41]),
  ])();
}
