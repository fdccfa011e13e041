import type { Consumer } from '@hospital/broker-client';
import type { BrokerClientProxy } from './broker.client';
import { BrokerContext } from './broker.context';
import { handleOrDeadLetter, type RecordPosition } from './dead-letter';

function harness() {
  const sent: { topic: string; headers: { [key: string]: unknown }; value: unknown }[] = [];
  const applied: [string, RecordPosition][] = [];
  const skipped: RecordPosition[] = [];
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
  const context = (value: string) =>
    new BrokerContext([
      'patient.checkout',
      3,
      { offset: 41, timestamp: 0, key: Buffer.from('P-1'), value: Buffer.from(value), headers: {} },
      async () => {},
      {} as Consumer,
    ]);
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
    apply: async (event: string, position: RecordPosition) => void applied.push([event, position]),
    skip: async (position: RecordPosition) => void skipped.push(position),
  };
  return { sent, applied, skipped, context, options };
}

describe('nest-broker/handleOrDeadLetter', () => {
  it('applies a good event with the position to store', async () => {
    const t = harness();
    await expect(
      handleOrDeadLetter(Buffer.from('ok'), t.context('ok'), t.options),
    ).resolves.toEqual({ deadLettered: undefined });
    expect(t.applied).toEqual([
      ['ok', { topic: 'patient.checkout', partition: 3, nextOffset: 42 }],
    ]);
    expect(t.sent).toEqual([]);
  });

  it.each([
    ['undecodable', '!!', /^undecodable: bad bytes$/],
    ['invalid', '', /^empty event$/],
  ])(
    'sends an %s record to the DLQ unchanged, with its reason and source, and stores only the offset',
    async (_kind, body, reason) => {
      const t = harness();
      const result = await handleOrDeadLetter(Buffer.from(body), t.context(body), t.options);
      expect(result.deadLettered).toMatch(reason);
      expect(t.sent).toEqual([
        {
          topic: 'patient.checkout.dlq',
          value: Buffer.from(body),
          headers: {
            'dlq-reason': expect.stringMatching(reason),
            'dlq-source': 'patient.checkout/3/41',
            'dlq-group': 'billing',
          },
        },
      ]);
      expect(t.skipped).toEqual([{ topic: 'patient.checkout', partition: 3, nextOffset: 42 }]);
      expect(t.applied).toEqual([]);
    },
  );
});
