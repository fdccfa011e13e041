import { hostname } from 'node:os';
import { loadConsumerServiceConfig } from './consumer-service-config';

describe('nest-broker/loadConsumerServiceConfig', () => {
  it('reads the service-prefixed and shared variables, with demo defaults', () => {
    expect(
      loadConsumerServiceConfig('billing', 3001, {
        BILLING_DATABASE_URL: 'postgres://billing@db/hospital',
        SESSION_TIMEOUT_MS: '3000',
      }),
    ).toEqual({
      service: 'billing',
      host: '127.0.0.1',
      port: 3001,
      protocol: 'grpc',
      broker: '127.0.0.1:9092',
      kafkaBrokers: ['127.0.0.1:9093'],
      topic: 'patient.checkout',
      deadLetterTopic: 'patient.checkout.dlq',
      groupId: 'billing',
      groupInstanceId: undefined,
      assignors: ['range'],
      clientId: `billing-${hostname()}-${process.pid}`,
      databaseUrl: 'postgres://billing@db/hospital',
      sessionTimeoutMs: 3_000,
      heartbeatIntervalMs: 1_000,
      partitionsConsumedConcurrently: 4,
      logLevel: 'info',
    });
  });

  it('names the replica to the broker by CLIENT_ID, else its static instance id', () => {
    const env = { BILLING_DATABASE_URL: 'x', GROUP_INSTANCE_ID: 'billing-a' };
    expect(loadConsumerServiceConfig('billing', 1, env).clientId).toBe('billing-a');
    expect(
      loadConsumerServiceConfig('billing', 1, { ...env, CLIENT_ID: 'billing-3' }).clientId,
    ).toBe('billing-3');
  });

  it('takes the assignors in order of preference from GROUP_ASSIGNORS', () => {
    const env = { BILLING_DATABASE_URL: 'x', GROUP_ASSIGNORS: 'cooperative-sticky, range' };
    expect(loadConsumerServiceConfig('billing', 1, env).assignors).toEqual([
      'cooperative-sticky',
      'range',
    ]);
  });

  it('speaks the Kafka protocol to KAFKA_BROKERS when BROKER_PROTOCOL=kafka', () => {
    const config = loadConsumerServiceConfig('billing', 1, {
      BILLING_DATABASE_URL: 'x',
      BROKER_PROTOCOL: 'kafka',
      KAFKA_BROKERS: 'kafka-1:9092, [::1]:19093',
      GROUP_ASSIGNORS: 'roundrobin,range',
    });
    expect(config).toMatchObject({
      protocol: 'kafka',
      kafkaBrokers: ['kafka-1:9092', '[::1]:19093'],
      assignors: ['roundrobin', 'range'],
    });
  });

  it.each([
    [{}, /PHARMACY_DATABASE_URL is required/],
    [
      { PHARMACY_DATABASE_URL: 'x', BROKER_PROTOCOL: 'amqp' },
      /BROKER_PROTOCOL must be grpc or kafka/,
    ],
    [
      { PHARMACY_DATABASE_URL: 'x', BROKER_PROTOCOL: 'kafka', KAFKA_BROKERS: 'kafka-1' },
      /KAFKA_BROKERS must list host:port entries.*"kafka-1"/,
    ],
    [
      {
        PHARMACY_DATABASE_URL: 'x',
        BROKER_PROTOCOL: 'kafka',
        GROUP_ASSIGNORS: 'cooperative-sticky',
      },
      /GROUP_ASSIGNORS "cooperative-sticky" cannot run with BROKER_PROTOCOL=kafka.*range, roundrobin/,
    ],
    [
      { PHARMACY_DATABASE_URL: 'x', BROKER_PROTOCOL: 'kafka', GROUP_INSTANCE_ID: 'pharmacy-a' },
      /GROUP_INSTANCE_ID needs BROKER_PROTOCOL=grpc/,
    ],
    [
      { PHARMACY_DATABASE_URL: 'x', GROUP_ASSIGNORS: 'range,fair' },
      /GROUP_ASSIGNORS names an unknown assignor "fair"/,
    ],
    [{ PHARMACY_DATABASE_URL: 'x', PHARMACY_PORT: 'eighty' }, /PHARMACY_PORT must be an integer/],
    [{ PHARMACY_DATABASE_URL: 'x', SESSION_TIMEOUT_MS: '0' }, /SESSION_TIMEOUT_MS must be/],
  ])('names the variable that is missing or wrong (%j)', (env, message) => {
    expect(() => loadConsumerServiceConfig('pharmacy', 3003, env)).toThrow(message);
  });
});
