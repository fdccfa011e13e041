import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { KafkaReader } from '../src/kafka/protocol/kafka-reader';
import { KafkaWriter } from '../src/kafka/protocol/kafka-writer';
import type { RequestBudgetView } from '../src/kafka/request-budget';
import { kafkaJs } from './support/kafka-clients';
import { startTestBroker, type TestBroker } from './support/start-test-broker';

/** A raw Kafka connection: frames out, frames (or the close) back. */
class RawKafka {
  private buffered = Buffer.alloc(0);
  private readonly waiting: ((frame: Buffer | undefined) => void)[] = [];
  closed = false;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (
        this.buffered.length >= 4 &&
        this.buffered.length >= 4 + this.buffered.readInt32BE(0)
      ) {
        const size = this.buffered.readInt32BE(0);
        const frame = this.buffered.subarray(4, 4 + size);
        this.buffered = this.buffered.subarray(4 + size);
        this.waiting.shift()?.(frame);
      }
    });
    socket.on('close', () => {
      this.closed = true;
      for (const wake of this.waiting.splice(0)) wake(undefined);
    });
  }

  static async open(address: string): Promise<RawKafka> {
    const [host, port] = address.split(':');
    const socket = connect(Number(port), host);
    await once(socket, 'connect');
    return new RawKafka(socket);
  }

  /**
   * Sends a request with header v1 (client id "raw"), or v2 with its tagged
   * fields for a flexible version; resolves with the response body, or
   * undefined when the broker closed the connection.
   */
  request(
    apiKey: number,
    version: number,
    body: (out: KafkaWriter) => void = () => undefined,
    { flexible = false } = {},
  ): Promise<Buffer | undefined> {
    const out = new KafkaWriter();
    out.int32(0).int16(apiKey).int16(version).int32(7).nullableString('raw');
    out.flexible = flexible;
    out.tags();
    body(out);
    out.patchInt32(0, out.length - 4);
    return this.send(out.view());
  }

  send(bytes: Buffer): Promise<Buffer | undefined> {
    const answer = new Promise<Buffer | undefined>((resolve) => this.waiting.push(resolve));
    this.socket.write(bytes);
    return answer.then((frame) => frame?.subarray(4)); // past the correlation id
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('broker Kafka listener: the wire, bad input and versions', () => {
  let broker: TestBroker;
  let address: string;
  beforeAll(async () => {
    broker = await startTestBroker({ BROKER_KAFKA_PORT: '0' });
    address = broker.running.kafkaAddress as string;
  });
  afterAll(() => broker?.stop());

  /** After each refusal the broker still serves: a fresh KafkaJS admin lists topics. */
  const stillServing = async () => {
    const admin = kafkaJs(address).admin();
    await admin.connect();
    expect(await admin.listTopics()).toContain('patient.checkout');
    await admin.disconnect();
  };

  it('answers ApiVersions v3 in its flexible form: compact arrays, tagged fields, and a v0 response header', async () => {
    const raw = await RawKafka.open(address);
    const body = await raw.request(18, 3, (out) => out.string('raw-client').string('1.0').tags(), {
      flexible: true,
    });
    const reader = new KafkaReader(body as Buffer);
    reader.flexible = true;
    expect(reader.int16()).toBe(0);
    const apis = reader.structs((r) => ({ key: r.int16(), min: r.int16(), max: r.int16() }));
    expect(apis).toEqual(
      expect.arrayContaining([
        { key: 18, min: 0, max: 3 },
        { key: 3, min: 0, max: 9 },
        { key: 0, min: 3, max: 7 },
        { key: 1, min: 4, max: 12 },
        { key: 11, min: 0, max: 6 },
      ]),
    );
    expect(reader.int32()).toBe(0); // throttle time
    reader.skipTags();
    expect(reader.remaining).toBe(0);
    raw.close();
  });

  it('answers a newer ApiVersions (v4) as real brokers do: UNSUPPORTED_VERSION in a v0 body that lists the versions served', async () => {
    const raw = await RawKafka.open(address);
    const body = await raw.request(18, 4, (out) => out.int8(0), { flexible: true });
    const reader = new KafkaReader(body as Buffer);
    expect(reader.int16()).toBe(35);
    const apis = reader.array((r) => ({ key: r.int16(), min: r.int16(), max: r.int16() }));
    expect(apis).toContainEqual({ key: 18, min: 0, max: 3 });
    expect(reader.remaining).toBe(0);
    const retried = new KafkaReader((await raw.request(18, 2)) as Buffer);
    expect(retried.int16()).toBe(0);
    raw.close();
  });

  it('answers a flexible request with response header v1 and reads past tagged fields it does not know', async () => {
    const raw = await RawKafka.open(address);
    // Heartbeat v4 for a group nobody joined, with an unknown tagged field (tag 7, 3 bytes) in its body.
    const body = await raw.request(
      12,
      4,
      (out) => {
        out.string('nobody-here').int32(1).string('ghost').nullableString(null);
        out
          .uvarint(1)
          .uvarint(7)
          .uvarint(3)
          .raw(Buffer.from([1, 2, 3]));
      },
      { flexible: true },
    );
    const reader = new KafkaReader(body as Buffer);
    reader.flexible = true;
    reader.skipTags(); // the response header's tagged fields
    expect(reader.int32()).toBe(0); // throttle time
    expect(reader.int16()).toBe(25); // UNKNOWN_MEMBER_ID
    reader.skipTags();
    expect(reader.remaining).toBe(0);
    raw.close();
  });

  it.each([
    ['an unknown API key', (raw: RawKafka) => raw.request(9999, 0)],
    ['a version outside the range served', (raw: RawKafka) => raw.request(3, 12)],
    ['a truncated body', (raw: RawKafka) => raw.request(3, 1, (out) => out.int32(5).int16(40))],
    [
      'a compact string longer than the frame (flexible Heartbeat v4)',
      (raw: RawKafka) =>
        raw.request(12, 4, (out) => out.uvarint(200).raw(Buffer.from('g')), { flexible: true }),
    ],
    [
      'tagged fields that run past the frame (flexible Metadata v9)',
      (raw: RawKafka) =>
        raw.request(
          3,
          9,
          (out) =>
            out
              .uvarint(0)
              .boolean(false)
              .boolean(false)
              .boolean(false)
              .uvarint(2)
              .uvarint(0)
              .uvarint(90),
          {
            flexible: true,
          },
        ),
    ],
    [
      'a size prefix larger than the request limit',
      (raw: RawKafka) => raw.send(Buffer.from([0x7f, 0xff, 0xff, 0xff])),
    ],
    ['a negative size prefix', (raw: RawKafka) => raw.send(Buffer.from([0xff, 0xff, 0xff, 0xfe]))],
  ])('closes the connection on %s and goes on serving', async (_what, send) => {
    const raw = await RawKafka.open(address);
    expect(await send(raw)).toBeUndefined();
    expect(raw.closed).toBe(true);
    await stillServing();
  });

  it('answers a Produce of a batch with a broken CRC with CORRUPT_MESSAGE for that partition, and stores nothing', async () => {
    const raw = await RawKafka.open(address);
    const batch = Buffer.alloc(61 + 8, 0);
    batch.writeInt32BE(batch.length - 12, 8); // batch length
    batch.writeInt8(2, 16); // magic
    batch.writeUInt32BE(0xdeadbeef, 17); // a CRC that cannot match
    batch.writeInt32BE(1, 57); // one record
    const body = await raw.request(0, 7, (out) => {
      out.nullableString(null).int16(-1).int32(5_000);
      out.array(['patient.checkout'], (w, name) =>
        w.string(name).array([0], (p, partition) => p.int32(partition).bytes(batch)),
      );
    });
    const reader = new KafkaReader(body as Buffer);
    const [topic] = reader.array((r) => ({
      name: r.string(),
      partitions: r.array((p) => ({
        partition: p.int32(),
        error: p.int16(),
        baseOffset: p.int64(),
      })),
    }));
    expect(topic.partitions).toEqual([{ partition: 0, error: 2, baseOffset: -1 }]);
    const described = await broker.rpc.call('describeTopic', { name: 'patient.checkout' });
    expect(described.topic?.partitions[0].logEndOffset).toBe(0);
    raw.close();
  });

  it('answers ListOffsets v0, which lag checkers still send, with a list holding the one offset asked for', async () => {
    const producer = kafkaJs(address).producer();
    await producer.connect();
    await producer.send({ topic: 'patient.checkout', messages: [{ value: 'a' }, { value: 'b' }] });
    await producer.disconnect();
    const described = await broker.rpc.call('describeTopic', { name: 'patient.checkout' });
    const raw = await RawKafka.open(address);
    const ask = (timestamp: number, maxOffsets: number) =>
      raw.request(2, 0, (out) => {
        out
          .int32(-1)
          .array(['patient.checkout'], (w, name) =>
            w
              .string(name)
              .array([0, 1, 2, 3], (p, partition) =>
                p.int32(partition).int64(timestamp).int32(maxOffsets),
              ),
          );
      });
    const offsets = async (timestamp: number, maxOffsets = 1) => {
      const reader = new KafkaReader((await ask(timestamp, maxOffsets)) as Buffer);
      const [topic] = reader.array((r) => ({
        name: r.string(),
        partitions: r.array((p) => ({
          partition: p.int32(),
          error: p.int16(),
          offsets: p.array((o) => o.int64()),
        })),
      }));
      expect(reader.remaining).toBe(0);
      return topic.partitions;
    };
    expect(await offsets(-1)).toEqual(
      described.topic!.partitions.map((p, partition) => ({
        partition,
        error: 0,
        offsets: [p.logEndOffset],
      })),
    );
    expect((await offsets(-2)).map((p) => p.offsets)).toEqual([[0], [0], [0], [0]]);
    expect((await offsets(-1, 0)).map((p) => p.offsets)).toEqual([[], [], [], []]);
    raw.close();
  });
});

/** Resolves once `check` holds, looking again on every turn of the event loop. */
async function whenTrue(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setImmediate(resolve));
}

describe('broker Kafka listener: the request budget shared by every connection', () => {
  let broker: TestBroker;
  let requests: RequestBudgetView;
  let address: string;
  beforeAll(async () => {
    broker = await startTestBroker({
      BROKER_KAFKA_PORT: '0',
      BROKER_KAFKA_MAX_QUEUED_BYTES: '1024',
    });
    requests = broker.running.kafkaRequests as RequestBudgetView;
    address = broker.running.kafkaAddress as string;
  });
  afterAll(() => broker?.stop());

  /** A Fetch v11 at the log end that long-polls, padded past the whole budget by its rack id. */
  const longPoll = (raw: RawKafka, maxWaitMs: number) =>
    raw.request(1, 11, (out) => {
      out
        .int32(-1)
        .int32(maxWaitMs)
        .int32(1)
        .int32(1 << 20);
      out.int8(0).int32(0).int32(-1); // isolation level, session id and epoch
      out.array(['patient.checkout'], (w, name) =>
        w.string(name).array([0], (p, partition) => {
          p.int32(partition).int32(-1).int64(0); // partition, leader epoch, fetch offset
          p.int64(-1).int32(1 << 20); // log start offset, partition max bytes
        }),
      );
      out.array([], () => undefined).string('r'.repeat(1_100));
    });

  it("holds another connection's request while the budget is full, and answers it once the first is answered", async () => {
    const holder = await RawKafka.open(address);
    const order: string[] = [];
    const held = longPoll(holder, 1_000).then((body) =>
      order.push(body ? 'long poll answered' : 'long poll closed'),
    );
    await whenTrue(() => requests.usedBytes > 1_024);
    const waiter = await RawKafka.open(address);
    const waited = waiter
      .request(18, 2)
      .then((body) => order.push(body ? 'ApiVersions answered' : 'ApiVersions closed'));
    await whenTrue(() => requests.waiters === 1);
    await Promise.all([held, waited]);
    expect(order).toEqual(['long poll answered', 'ApiVersions answered']);
    await whenTrue(() => requests.usedBytes === 0);
    holder.close();
    waiter.close();
  });

  it('forgets a connection that closed while it waited, and gives back all it held', async () => {
    const holder = await RawKafka.open(address);
    const held = longPoll(holder, 500);
    await whenTrue(() => requests.usedBytes > 1_024);
    const quitter = await RawKafka.open(address);
    void quitter.request(18, 2);
    await whenTrue(() => requests.waiters === 1);
    quitter.close();
    await whenTrue(() => requests.waiters === 0);
    expect(await held).toBeDefined();
    await whenTrue(() => requests.usedBytes === 0);
    holder.close();
  });
});
