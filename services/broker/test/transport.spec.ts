import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  status,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { BrokerClient, type ListTopicsResponse } from '@hospital/proto';
import { startTestBroker, type TestBroker } from './support/start-test-broker';

interface ReflectionStream {
  write(request: object): void;
  end(): void;
  on(
    event: 'data',
    listener: (response: { listServicesResponse?: { service: { name: string }[] } }) => void,
  ): void;
  on(event: 'error', listener: (error: Error) => void): void;
}

describe('broker gRPC transport', () => {
  describe('plain text', () => {
    let broker: TestBroker;
    beforeAll(async () => {
      broker = await startTestBroker();
    });
    afterAll(() => broker?.stop());

    it('lists the Broker service through server reflection', async () => {
      const definition = loadSync(
        require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1alpha/reflection.proto'),
      );
      const reflection = (
        loadPackageDefinition(definition) as unknown as {
          grpc: {
            reflection: {
              v1alpha: {
                ServerReflection: new (
                  address: string,
                  creds: unknown,
                ) => { serverReflectionInfo(): ReflectionStream; close(): void };
              };
            };
          };
        }
      ).grpc.reflection.v1alpha.ServerReflection;
      const client = new reflection(broker.running.address, credentials.createInsecure());
      const stream = client.serverReflectionInfo();
      const services = await new Promise<string[]>((resolve, reject) => {
        stream.on('data', (response) =>
          resolve(response.listServicesResponse?.service.map((service) => service.name) ?? []),
        );
        stream.on('error', reject);
        stream.write({ listServices: '*' });
      });
      stream.end();
      client.close();
      expect(services).toContain('hospital.broker.v1.Broker');
    });

    it('ends a long poll at the client deadline and keeps serving', async () => {
      const deadline = Date.now() + 300;
      const failure = await new Promise<ServiceError | null>((resolve) =>
        broker.rpc.client.fetch(
          {
            maxWaitMs: 20_000,
            minBytes: 1,
            maxBytes: 1000,
            topics: [
              {
                name: 'patient.checkout',
                partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 0 }],
              },
            ],
          },
          new Metadata(),
          { deadline },
          (error) => resolve(error),
        ),
      );
      expect(failure?.code).toBe(status.DEADLINE_EXCEEDED);
      await expect(
        broker.rpc.call('listTopics', { includeInternal: false }),
      ).resolves.toMatchObject({ topics: [{ name: 'patient.checkout' }] });
    });
  });

  describe('TLS', () => {
    let dir: string;
    let broker: TestBroker;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'broker-tls-'));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      broker = await startTestBroker({
        BROKER_TLS_CERT_FILE: join(dir, 'cert.pem'),
        BROKER_TLS_KEY_FILE: join(dir, 'key.pem'),
      });
    });
    afterAll(async () => {
      await broker?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const listTopics = (client: BrokerClient) =>
      new Promise<ListTopicsResponse>((resolve, reject) =>
        client.listTopics({ includeInternal: false }, (error, response) =>
          error ? reject(error) : resolve(response),
        ),
      );

    it('serves clients that trust its certificate', async () => {
      const client = new BrokerClient(
        broker.running.address.replace('127.0.0.1', 'localhost'),
        credentials.createSsl(readFileSync(join(dir, 'cert.pem'))),
      );
      await expect(listTopics(client)).resolves.toMatchObject({
        topics: [{ name: 'patient.checkout' }],
      });
      client.close();
    });

    it('refuses plain-text clients', async () => {
      const client = new BrokerClient(broker.running.address, credentials.createInsecure());
      await expect(listTopics(client)).rejects.toMatchObject({ code: status.UNAVAILABLE });
      client.close();
    });
  });
});
