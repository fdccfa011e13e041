import type { BrokerClientProxy } from '@hospital/nest-broker';
import { ConsumerMetrics } from './consumer-metrics';
import { handleBatchOrDeadLetter, type RecordBatch, type RecordPosition } from './dead-letter';

function harness() {
  const sent: { topic: string; headers: { [key: string]: unknown }; value: unknown }[] = [];
  const writes: [string[], RecordPosition][] = [];
  const deadLetters = {
    sendRecords: async (
      topic: string,
      messages: { headers?: { [key: string]: unknown }; value: unknown }[],
    ) => {
      for (const message of messages)
        sent.push({ topic, headers: message.headers ?? {}, value: message.value });
      return [];
    },
  } as unknown as BrokerClientProxy;
  const batch = (...values: string[]): RecordBatch => ({
    topic: 'patient.checkout',
    partition: 3,
    highWatermark: 50,
    records: values.map((value, index) => ({
      offset: 40 + index,
      timestamp: 0,
      key: Buffer.from('P-1'),
      value: Buffer.from(value),
      headers: {},
    })),
  });
  const metrics = new ConsumerMetrics('test');
  const options = {
    deadLetters,
    deadLetterTopic: 'patient.checkout.dlq',
    groupId: 'billing',
    decode: (bytes: Buffer) => {
      const text = bytes.toString();
      if (text.startsWith('!')) throw new Error('bad bytes');
      return text;
    },
    reject: (event: string) => (event === '' ? 'empty event' : undefined),
    write: async (events: string[], position: RecordPosition) => {
      writes.push([events, position]);
      return { written: events.length, skipped: 0 };
    },
    metrics,
  };
  return { sent, writes, batch, options, metrics };
}

const dlq = (body: string, offset: number, reason: string | RegExp) => ({
  topic: 'patient.checkout.dlq',
  value: Buffer.from(body),
  headers: {
    'dlq-reason': expect.stringMatching(reason),
    'dlq-source': `patient.checkout/3/${offset}`,
    'dlq-group': 'billing',
  },
});

describe('nest-broker/handleBatchOrDeadLetter', () => {
  it('writes the good events of a batch with the offset after its last record, in one call', async () => {
    const t = harness();
    const outcome = await handleBatchOrDeadLetter(t.batch('a', 'b', 'c'), t.options);
    expect(outcome).toEqual({ written: 3, skipped: 0, deadLettered: [] });
    expect(t.writes).toEqual([
      [['a', 'b', 'c'], { topic: 'patient.checkout', partition: 3, nextOffset: 43 }],
    ]);
    expect(t.sent).toEqual([]);
    expect(await t.metrics.registry.getSingleMetricAsString('test_consumer_lag')).toContain(
      'test_consumer_lag{topic="patient.checkout",partition="3"} 7',
    );
  });

  it('sends undecodable and invalid records to the DLQ unchanged, with reason and source, and writes the rest', async () => {
    const t = harness();
    const outcome = await handleBatchOrDeadLetter(t.batch('a', '!!', '', 'd'), t.options);
    expect(outcome.deadLettered).toEqual([
      { offset: 41, reason: 'undecodable: bad bytes' },
      { offset: 42, reason: 'empty event' },
    ]);
    expect(t.sent).toEqual([
      dlq('!!', 41, /^undecodable: bad bytes$/),
      dlq('', 42, /^empty event$/),
    ]);
    expect(t.writes).toEqual([
      [['a', 'd'], { topic: 'patient.checkout', partition: 3, nextOffset: 44 }],
    ]);
    expect(
      await t.metrics.registry.getSingleMetricAsString('test_events_dead_lettered_total'),
    ).toContain('test_events_dead_lettered_total 2');
  });

  it('stores only the offset when every record of a batch is dead-lettered', async () => {
    const t = harness();
    await handleBatchOrDeadLetter(t.batch('!x'), t.options);
    expect(t.writes).toEqual([[[], { topic: 'patient.checkout', partition: 3, nextOffset: 41 }]]);
  });
});
