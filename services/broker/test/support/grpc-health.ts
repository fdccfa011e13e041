import { credentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

interface HealthClient {
  check(
    request: { service: string },
    callback: (error: Error | null, response: { status: string }) => void,
  ): void;
  close(): void;
}

/** What the standard gRPC health service says of `service` ('' is the whole server). */
export async function grpcHealth(address: string, service: string): Promise<string> {
  const definition = loadSync(require.resolve('grpc-health-check/proto/health/v1/health.proto'), {
    enums: String,
  });
  const loaded = loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: new (address: string, creds: unknown) => HealthClient } } };
  };
  const checker = new loaded.grpc.health.v1.Health(address, credentials.createInsecure());
  try {
    const answer = await new Promise<{ status: string }>((resolve, reject) =>
      checker.check({ service }, (error, response) => (error ? reject(error) : resolve(response))),
    );
    return answer.status;
  } finally {
    checker.close();
  }
}
