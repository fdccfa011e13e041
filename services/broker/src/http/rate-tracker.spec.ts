import { RateTracker } from './rate-tracker';

describe('broker/http/RateTracker', () => {
  it('reports the growth per second over the window', () => {
    const rates = new RateTracker(5_000);
    expect(rates.perSecond('t')).toBe(0);
    rates.record('t', 100, 0);
    expect(rates.perSecond('t')).toBe(0);
    rates.record('t', 150, 1_000);
    rates.record('t', 300, 2_000);
    expect(rates.perSecond('t')).toBe(100);
  });

  it('forgets samples older than the window', () => {
    const rates = new RateTracker(2_000);
    rates.record('t', 0, 0);
    rates.record('t', 1_000, 1_000); // a burst long ago
    for (let second = 2; second <= 10; second++)
      rates.record('t', 1_000 + (second - 1) * 10, second * 1_000);
    expect(rates.perSecond('t')).toBe(10);
  });

  it('restarts a counter that went back instead of reporting a negative rate', () => {
    const rates = new RateTracker();
    rates.record('g', 500, 0);
    rates.record('g', 10, 1_000);
    expect(rates.perSecond('g')).toBe(0);
    rates.record('g', 30, 2_000);
    expect(rates.perSecond('g')).toBe(20);
  });

  it('drops counters that are gone', () => {
    const rates = new RateTracker();
    rates.record('a', 0, 0);
    rates.record('a', 10, 1_000);
    rates.retain(new Set(['b']));
    expect(rates.perSecond('a')).toBe(0);
  });
});
