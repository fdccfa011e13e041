import { byCodeUnits } from './code-unit-order';

describe('proto/wire/byCodeUnits', () => {
  it('orders as Java String.compareTo: upper case before lower case, shorter prefix first, astral after BMP', () => {
    expect(
      ['a', 'B', 'b', 'A', 'aa', '\u00e9', 'Z', '\u{1F600}', '\uffee'].sort(byCodeUnits),
    ).toEqual([
      'A',
      'B',
      'Z',
      'a',
      'aa',
      'b',
      '\u00e9',
      '\u{1F600}', // its high surrogate 0xD83D sorts below 0xFFEE, as in Java
      '\uffee',
    ]);
  });
});
