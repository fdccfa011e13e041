/** Protobuf base-128 varint of a non-negative integer up to 2^53. */
export function encodeVarint(value: number, out: number[] = []): number[] {
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return out;
}
