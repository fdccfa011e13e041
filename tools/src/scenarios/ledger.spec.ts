import { Ledger, ranges, span } from './ledger';

describe('tools/scenarios/Ledger', () => {
  it('finds what was processed twice and what nobody processed', () => {
    const ledger = new Ledger();
    for (const offset of [0, 1, 2, 3, 4]) ledger.process('a', offset);
    for (const offset of [3, 4, 7]) ledger.process('b', offset);
    expect(ledger.duplicated()).toEqual([3, 4]);
    expect(ledger.missing(0, 7)).toEqual([5, 6]);
    expect([ledger.lastBy('a'), ledger.lastBy('b'), ledger.lastBy('c')]).toEqual([4, 7, -1]);
  });

  it('prints offsets as ranges, as the source material writes them', () => {
    expect(ranges([7, 8, 9])).toBe('7–9');
    expect(ranges([3, 4, 5, 9, 11, 12])).toBe('3–5, 9, 11–12');
    expect(ranges([])).toBe('none');
    expect(span(3, 5)).toEqual([3, 4, 5]);
    expect(span(5, 4)).toEqual([]);
  });
});
