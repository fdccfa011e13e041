import type { DescribeTopicResponse } from '@hospital/proto';
import { TopicMetadataCache } from './topic-metadata';

const described = (partitions: number, maxBatchBytes = 1024): DescribeTopicResponse => ({
  topic: {
    name: 't',
    internal: false,
    config: undefined,
    maxBatchBytes,
    partitions: Array.from({ length: partitions }, (_, partition) => ({
      partition,
      logStartOffset: 0,
      logEndOffset: 0,
      sizeBytes: 0,
      segmentCount: 1,
    })),
  },
});

/** A broker whose answers the test queues, with a clock the test moves. */
function harness() {
  let time = 0;
  const answers: (DescribeTopicResponse | Error)[] = [];
  let calls = 0;
  const cache = new TopicMetadataCache(
    async () => {
      calls++;
      const next = answers.shift();
      if (next === undefined) throw new Error('no answer queued');
      if (next instanceof Error) throw next;
      return next;
    },
    5_000,
    () => time,
  );
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    cache,
    answers,
    calls: () => calls,
    advance: (ms: number) => (time += ms),
    settle,
  };
}

describe('broker-client/producer/TopicMetadataCache', () => {
  it('asks once, then serves what it has until the age passes; an old value serves while the refresh is out', async () => {
    const t = harness();
    t.answers.push(described(4));
    expect((await t.cache.get('t')).partitions).toBe(4);
    expect((await t.cache.get('t')).partitions).toBe(4);
    expect(t.calls()).toBe(1);
    t.advance(5_000);
    t.answers.push(described(6));
    expect((await t.cache.get('t')).partitions).toBe(4);
    await t.settle();
    expect((await t.cache.get('t')).partitions).toBe(6);
    expect(t.calls()).toBe(2);
  });

  it('keeps the old value when a refresh fails, and tries again only after another age', async () => {
    const t = harness();
    t.answers.push(described(4));
    await t.cache.get('t');
    t.advance(5_000);
    t.answers.push(new Error('broker away'));
    await t.cache.get('t');
    await t.settle();
    expect((await t.cache.get('t')).partitions).toBe(4);
    expect(t.calls()).toBe(2);
    t.advance(5_000);
    t.answers.push(described(8));
    await t.cache.get('t');
    await t.settle();
    expect(t.cache.current('t')?.partitions).toBe(8);
  });

  it('makes the next get wait for a fresh answer after invalidate, and lowers a limit only downwards', async () => {
    const t = harness();
    t.answers.push(described(4, 1024));
    await t.cache.get('t');
    t.cache.lowerBatchLimit('t', 2048);
    expect(t.cache.current('t')?.maxBatchBytes).toBe(1024);
    t.cache.lowerBatchLimit('t', 512);
    expect((await t.cache.get('t')).maxBatchBytes).toBe(512);
    t.cache.invalidate('t');
    t.answers.push(described(5, 1024));
    expect(await t.cache.get('t')).toEqual({ partitions: 5, maxBatchBytes: 1024 });
  });

  it('refuses a topic described without partitions', async () => {
    const t = harness();
    t.answers.push(described(0));
    await expect(t.cache.get('t')).rejects.toThrow('topic t has no partitions');
  });
});
