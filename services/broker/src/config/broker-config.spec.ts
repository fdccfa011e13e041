import { loadBrokerConfig } from './broker-config';

describe('broker/config/loadBrokerConfig', () => {
  it('has demo-friendly defaults', () => {
    expect(loadBrokerConfig({})).toMatchObject({
      host: '127.0.0.1',
      port: 9092,
      durability: 'fsync',
      fsyncMinIntervalMs: 0,
      flushIntervalMs: 1_000,
      initialTopics: [{ name: 'patient.checkout', partitions: 4 }],
      adminToken: undefined,
      tls: undefined,
      httpHost: '127.0.0.1',
      httpPort: 8080,
      controlUrl: undefined,
    });
  });

  it('reads overrides', () => {
    const config = loadBrokerConfig({
      BROKER_PORT: '7000',
      BROKER_DURABILITY: 'os',
      BROKER_TOPICS: 'a:1, b:8',
      BROKER_TLS_CERT_FILE: '/c.pem',
      BROKER_TLS_KEY_FILE: '/k.pem',
      BROKER_HOST: '0.0.0.0',
      BROKER_HTTP_PORT: '0',
      BROKER_CONTROL_URL: 'http://127.0.0.1:9094/',
    });
    expect(config).toMatchObject({
      port: 7000,
      durability: 'os',
      initialTopics: [
        { name: 'a', partitions: 1 },
        { name: 'b', partitions: 8 },
      ],
      tls: { certFile: '/c.pem', keyFile: '/k.pem' },
      httpHost: '0.0.0.0',
      httpPort: 0,
      controlUrl: 'http://127.0.0.1:9094',
    });
  });

  it.each([
    [{ BROKER_PORT: 'http' }, /BROKER_PORT must be an integer/],
    [{ BROKER_DURABILITY: 'fast' }, /BROKER_DURABILITY must be one of fsync, os/],
    [{ BROKER_DURABILITY: 'interval' }, /BROKER_DURABILITY=interval was renamed.*use fsync/],
    [{ BROKER_TOPICS: 'x:0' }, /BROKER_TOPICS entries/],
    [{ BROKER_TLS_CERT_FILE: '/c.pem' }, /set together/],
    [{ BROKER_CONTROL_URL: 'localhost:9094' }, /BROKER_CONTROL_URL must be an http:\/\/ URL/],
  ])('names the variable in error %#', (env, message) => {
    expect(() => loadBrokerConfig(env)).toThrow(message);
  });
});
