import { BufferBudget, ProducerBufferFullError } from './buffer-budget';

describe('broker-client/producer/BufferBudget', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('grants waiting reservations in arrival order as room is released, never barging ahead', async () => {
    const budget = new BufferBudget(100, 1_000);
    expect(budget.reserve(80)).toBeUndefined();
    const granted: string[] = [];
    void budget.reserve(50)?.then(() => granted.push('a'));
    // Fits on its own, but must queue behind "a" to keep send order.
    const small = budget.reserve(10);
    expect(small).toBeDefined();
    void small?.then(() => granted.push('b'));
    budget.release(80);
    await jest.advanceTimersByTimeAsync(0);
    expect(granted).toEqual(['a', 'b']);
    expect(budget.usedBytes).toBe(60);
  });

  it('fails every waiter whose maxBlockMs passed, oldest first, and grants the rest', async () => {
    const budget = new BufferBudget(100, 1_000);
    budget.reserve(100);
    const first = budget.reserve(10);
    await jest.advanceTimersByTimeAsync(500);
    const second = budget.reserve(10);
    const outcomes: string[] = [];
    void first?.then(
      () => outcomes.push('first granted'),
      (error: unknown) =>
        outcomes.push(error instanceof ProducerBufferFullError ? 'first full' : 'x'),
    );
    void second?.then(
      () => outcomes.push('second granted'),
      () => outcomes.push('second full'),
    );
    await jest.advanceTimersByTimeAsync(500);
    expect(outcomes).toEqual(['first full']);
    budget.release(50);
    await jest.advanceTimersByTimeAsync(0);
    expect(outcomes).toEqual(['first full', 'second granted']);
  });

  it('refuses at once what could never fit', () => {
    const budget = new BufferBudget(100, 1_000);
    expect(() => budget.assertFits(101)).toThrow(ProducerBufferFullError);
    expect(() => budget.reserve(101)).toThrow(/whole buffer of 100 bytes/);
  });
});
