import { Admin, BrokerConnection } from '@hospital/broker-client';
import { bootstrapServiceDatabases, serviceUrl, type ServiceDatabase } from '@hospital/db';
import {
  findFreePort,
  queryRows,
  startBroker,
  startPostgres,
  type BrokerProcess,
  type StartedPostgres,
} from '@hospital/processes';
import { PatientCheckedOut } from '@hospital/proto';
import type { RunningConsumerService } from '@hospital/service-runtime';
import { groupCaughtUp } from '@hospital/testing';

export const CHECKOUT_TOPIC = 'patient.checkout';

/** Where the service under test connects: its database, the broker, its HTTP port. */
export interface ServiceEnvironment {
  databaseUrl: string;
  brokerAddress: string;
  port: string;
}

export interface ConsumerServiceUnderTest<S extends RunningConsumerService> {
  broker: BrokerProcess;
  postgres: StartedPostgres;
  connection: BrokerConnection;
  /** The service's own role, limited to its schema. */
  databaseUrl: string;
  service: S;
  /** Resolves once the group has committed the end of every partition of patient.checkout. */
  caughtUp(): Promise<void>;
  query<T extends object>(sql: string, url?: string): Promise<T[]>;
  /** Stops the service, the broker and Postgres; safe to call after a failed start. */
  close(): Promise<void>;
}

/**
 * A consumer service as its integration tests run it: a real broker
 * (patient.checkout with 4 partitions and its dead-letter topic, no initial
 * rebalance delay), a real Postgres with the service's role and schema (and
 * `otherRoles`, to show the service cannot reach them), and the service
 * started in this process. A start that fails stops what it started, then
 * throws the reason.
 */
export async function startConsumerServiceUnderTest<S extends RunningConsumerService>(options: {
  group: string;
  role: ServiceDatabase;
  otherRoles?: ServiceDatabase[];
  start(environment: ServiceEnvironment): Promise<S>;
}): Promise<ConsumerServiceUnderTest<S>> {
  const started: {
    broker?: BrokerProcess;
    postgres?: StartedPostgres;
    connection?: BrokerConnection;
    service?: S;
  } = {};
  const close = async () => {
    await started.service?.close();
    started.connection?.close();
    await started.broker?.stop();
    started.broker?.cleanup();
    await started.postgres?.stop();
  };
  try {
    const broker = (started.broker = await startBroker({
      env: {
        BROKER_TOPICS: `${CHECKOUT_TOPIC}:4,${CHECKOUT_TOPIC}.dlq:1`,
        BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      },
    }));
    const postgres = (started.postgres = await startPostgres());
    await bootstrapServiceDatabases(postgres.url, [options.role, ...(options.otherRoles ?? [])]);
    const databaseUrl = serviceUrl(postgres.url, options.role);
    const connection = (started.connection = new BrokerConnection({ broker: broker.address }));
    const service = (started.service = await options.start({
      databaseUrl,
      brokerAddress: broker.address,
      port: String(await findFreePort()),
    }));
    return {
      broker,
      postgres,
      connection,
      databaseUrl,
      service,
      caughtUp: () =>
        groupCaughtUp(new Admin(connection), options.group, CHECKOUT_TOPIC, (listener) =>
          service.server.on('consumer.commit', listener),
        ),
      query: (sql, url = databaseUrl) => queryRows(url, sql),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A checkout as the checkout service publishes it: keyed by patient. */
export const checkoutRecord = (event: PatientCheckedOut) => ({
  key: event.patientId,
  value: Buffer.from(PatientCheckedOut.encode(event).finish()),
});
