import { RequestBudget } from './request-budget';

describe('Kafka request budget (bytes held across connections)', () => {
  it('admits requests while they fit, and the next one once enough is released', () => {
    const budget = new RequestBudget(100);
    expect(budget.tryTake(60)).toBe(true);
    expect(budget.tryTake(30)).toBe(true);
    expect(budget.tryTake(20)).toBe(false);
    const admitted: string[] = [];
    budget.waitFor(20, () => admitted.push('a'));
    budget.release(5);
    expect(admitted).toEqual([]); // 85 + 20 > 100 still
    budget.release(30);
    expect(admitted).toEqual(['a']);
    expect(budget.usedBytes).toBe(75);
  });

  it('serves waiters first come first served: a later small request does not overtake a large one', () => {
    const budget = new RequestBudget(100);
    budget.tryTake(90);
    const admitted: string[] = [];
    budget.waitFor(50, () => admitted.push('large'));
    expect(budget.tryTake(5)).toBe(false); // would fit, but someone waits before it
    budget.waitFor(5, () => admitted.push('small'));
    budget.release(90);
    expect(admitted).toEqual(['large', 'small']);
    expect(budget.usedBytes).toBe(55);
  });

  it('always admits one request alone, however large, so no request waits forever', () => {
    const budget = new RequestBudget(100);
    expect(budget.tryTake(1_000)).toBe(true);
    const admitted: string[] = [];
    budget.waitFor(500, () => admitted.push('next large'));
    budget.release(1_000);
    expect(admitted).toEqual(['next large']);
  });

  it('forgets a waiter whose connection closed, and admits the ones behind it', () => {
    const budget = new RequestBudget(100);
    budget.tryTake(80);
    const admitted: string[] = [];
    const cancel = budget.waitFor(90, () => admitted.push('closed'));
    budget.waitFor(10, () => admitted.push('behind'));
    expect(admitted).toEqual([]);
    cancel();
    expect(admitted).toEqual(['behind']);
    expect(budget.waiters).toBe(0);
  });
});
