import { status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import {
  Acks,
  decodeRecordBatch,
  ErrorReason,
  readErrorDetail,
  type FetchStreamRequest,
  type FetchStreamResponse,
  type ProduceStreamRequest,
  type ProduceStreamResponse,
} from '@hospital/proto';
import { batchOf } from './support/broker-rpc';
import { startTestBroker, type TestBroker } from './support/start-test-broker';

const TOPIC = 'pipelined.test';

/** Every answer a duplex stream gives, as it comes, and how the stream ended. */
function watch<Out, In>(stream: ClientDuplexStream<Out, In>) {
  const answers: In[] = [];
  const waiters: (() => void)[] = [];
  stream.on('data', (answer: In) => {
    answers.push(answer);
    waiters.splice(0).forEach((wake) => wake());
  });
  const ended = new Promise<ServiceError | undefined>((resolve) => {
    stream.on('error', (error: ServiceError) => resolve(error));
    stream.on('status', (result: { code: status }) => {
      if (result.code === status.OK) resolve(undefined);
    });
  });
  const until = async (count: number) => {
    while (answers.length < count) await new Promise<void>((wake) => waiters.push(wake));
    return answers;
  };
  return { answers, until, ended };
}

const produce = (correlationId: number, topic: string, partition: number, value: string) => ({
  correlationId,
  request: {
    acks: Acks.ACKS_ALL,
    timeoutMs: 5_000,
    topics: [{ name: topic, partitions: [{ partition, batch: batchOf([{ value }]) }] }],
  },
});

describe('broker over gRPC: ProduceStream and FetchStream pipeline requests on one stream', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
    await broker.rpc.call('createTopic', { name: TOPIC, partitions: 2, config: undefined });
  });
  afterAll(() => broker?.stop());

  it('answers every Produce with its correlation id, and a failure as an error detail that leaves the stream open', async () => {
    const stream: ClientDuplexStream<ProduceStreamRequest, ProduceStreamResponse> =
      broker.rpc.client.produceStream();
    const { until, ended } = watch(stream);
    stream.write(produce(7, TOPIC, 0, 'a'));
    stream.write(produce(8, 'no.such.topic', 0, 'b'));
    stream.write(produce(9, TOPIC, 1, 'c'));
    stream.write(produce(10, TOPIC, 0, 'd'));
    const answers = await until(4);
    const byId = new Map(answers.map((answer) => [answer.correlationId, answer.result]));
    expect([...byId.keys()].sort((a, b) => a - b)).toEqual([7, 8, 9, 10]);
    expect(byId.get(8)).toMatchObject({
      $case: 'error',
      value: {
        reason: ErrorReason.UNKNOWN_TOPIC_OR_PARTITION,
        message: expect.stringContaining('no.such.topic'),
      },
    });
    const offsetOf = (id: number) => {
      const result = byId.get(id);
      return result?.$case === 'response' ? result.value.topics[0].partitions[0].baseOffset : -1;
    };
    // Partition 0 took a then d, in the order written.
    expect(offsetOf(10)).toBe(offsetOf(7) + 1);
    stream.end();
    expect(await ended).toBeUndefined();
  });

  it('ends a stream whose message does not decode with INVALID_REQUEST naming the message type', async () => {
    const stream = broker.rpc.client.makeBidiStreamRequest(
      '/hospital.broker.v1.Broker/ProduceStream',
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
    );
    const { ended } = watch(stream);
    stream.write(Buffer.from([0x0a, 0xff, 0xff, 0xff]));
    const failure = await ended;
    expect(failure?.code).toBe(status.INVALID_ARGUMENT);
    expect(failure && readErrorDetail(failure.metadata)?.reason).toBe(ErrorReason.INVALID_REQUEST);
    expect(failure?.details).toMatch(
      /ProduceStream message is not a valid hospital\.broker\.v1\.ProduceStreamRequest/,
    );
  });

  it('serves a FetchStream long poll when data arrives, and answers a withdrawn one at once', async () => {
    const stream: ClientDuplexStream<FetchStreamRequest, FetchStreamResponse> =
      broker.rpc.client.fetchStream();
    const { until, ended } = watch(stream);
    const end = await broker.rpc.call('listOffsets', {
      topic: TOPIC,
      partitions: [1],
      spec: { spec: { $case: 'latest', value: true } },
    });
    const from = end.partitions[0].offset;
    const poll = (correlationId: number, maxWaitMs: number) => ({
      correlationId,
      cancel: false,
      request: {
        maxWaitMs,
        minBytes: 1,
        maxBytes: 1 << 20,
        topics: [
          { name: TOPIC, partitions: [{ partition: 1, fetchOffset: from, partitionMaxBytes: 0 }] },
        ],
      },
    });
    stream.write(poll(1, 60_000));
    stream.write(poll(2, 60_000));
    stream.write({ correlationId: 2, cancel: true, request: undefined });
    const [withdrawn] = await until(1);
    expect(withdrawn.correlationId).toBe(2);

    await broker.rpc.call('produce', produce(0, TOPIC, 1, 'arrived').request);
    const answers = await until(2);
    const served = answers[1];
    expect(served.correlationId).toBe(1);
    expect(served.result?.$case).toBe('response');
    const batches =
      served.result?.$case === 'response'
        ? served.result.value.topics[0].partitions[0].batches
        : [];
    expect(batches.flatMap(decodeRecordBatch).map((record) => record.value.toString())).toEqual([
      'arrived',
    ]);
    stream.end();
    expect(await ended).toBeUndefined();
  });
});
