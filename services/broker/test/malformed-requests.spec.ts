import { Client, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { BrokerService, ErrorReason, readErrorDetail } from '@hospital/proto';
import { startTestBroker, type TestBroker } from './support/start-test-broker';

describe('malformed and hostile requests over gRPC', () => {
  let broker: TestBroker;
  let client: Client;
  beforeAll(async () => {
    broker = await startTestBroker();
    client = new Client(broker.running.address, credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  const raw = (path: string, body: Buffer) =>
    new Promise<ServiceError | null>((resolve) =>
      client.makeUnaryRequest(
        path,
        (value: Buffer) => value,
        (value: Buffer) => value,
        body,
        (error) => resolve(error),
      ),
    );

  it('answers bytes that are not the request message with INVALID_ARGUMENT naming the type', async () => {
    // A length-delimited field claiming 2^35 bytes: no protobuf decoder can read this.
    const error = await raw(
      BrokerService.describeTopic.path,
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x41]),
    );
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    expect(error?.details).toMatch(
      /^the request is not a valid hospital\.broker\.v1\.DescribeTopicRequest: /,
    );
    expect(readErrorDetail(error?.metadata)?.reason).toBe(ErrorReason.INVALID_REQUEST);
  });

  it('survives a name with a lone surrogate and one of 300,000 characters, answering both clearly', async () => {
    const describe = (name: string) =>
      raw(BrokerService.describeTopic.path, BrokerService.describeTopic.requestSerialize({ name }));
    for (const name of ['\ud800', 'x'.repeat(300_000)]) {
      const error = await describe(name);
      expect(error?.code).not.toBe(status.UNAVAILABLE);
      expect(error?.details.length).toBeGreaterThan(0);
      expect(error?.details.length).toBeLessThan(1_200);
    }
    expect(await raw(BrokerService.listTopics.path, Buffer.alloc(0))).toBeNull(); // still serving
  });
});
