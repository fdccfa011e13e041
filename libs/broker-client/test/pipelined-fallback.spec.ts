import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import {
  Acks,
  BrokerService,
  encodeRecordBatch,
  type ProduceRequest,
  type ProduceResponse,
} from '@hospital/proto';
import { BrokerConnection } from '../src/connection/broker-connection';

describe('broker-client/BrokerConnection against a broker without the pipelined streams', () => {
  let server: Server;
  let connection: BrokerConnection;
  const unaryProduces: ProduceRequest[] = [];
  beforeAll(async () => {
    // An older broker: unary Produce only, so ProduceStream is UNIMPLEMENTED.
    server = new Server();
    server.addService(BrokerService, {
      produce: (
        call: ServerUnaryCall<ProduceRequest, ProduceResponse>,
        done: sendUnaryData<ProduceResponse>,
      ) => {
        unaryProduces.push(call.request);
        done(null, {
          topics: [
            {
              name: 't',
              partitions: [
                {
                  partition: 0,
                  baseOffset: 41,
                  logAppendTimeMs: 0,
                  logStartOffset: 0,
                  recordCount: 1,
                },
              ],
            },
          ],
        });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    connection = new BrokerConnection({ broker: `127.0.0.1:${port}` });
  });
  afterAll(async () => {
    connection?.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  it('falls back to unary Produce, and stays there', async () => {
    const request = {
      acks: Acks.ACKS_ALL,
      timeoutMs: 1_000,
      topics: [
        { name: 't', partitions: [{ partition: 0, batch: encodeRecordBatch([{ value: 'v' }]) }] },
      ],
    };
    const opened = jest.spyOn(connection.client, 'produceStream');
    const first = await connection.produce(request);
    const second = await connection.produce(request);
    // One try of the stream, refused as UNIMPLEMENTED; the second send goes straight to unary.
    expect(opened).toHaveBeenCalledTimes(1);
    expect(first.topics[0].partitions[0].baseOffset).toBe(41);
    expect(second.topics[0].partitions[0].baseOffset).toBe(41);
    expect(unaryProduces).toHaveLength(2);
  });
});
