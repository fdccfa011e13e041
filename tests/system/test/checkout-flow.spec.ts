import { Admin, BrokerConnection, Producer } from '@hospital/broker-client';
import { bootstrapServiceDatabases, serviceUrl } from '@hospital/db';
import { PatientCheckedOut } from '@hospital/proto';
import {
  findFreePort,
  logMessage,
  startService,
  type BrokerProcess,
  type NodeProcess,
  type StartedPostgres,
} from '@hospital/processes';
import { Client } from 'pg';
import { actualRows, EXPECTED, newestVersions } from './support/expected-rows';
import {
  brokerEnv,
  caughtUp,
  checksum,
  CONSUMERS,
  eventually,
  metric,
  readTopic,
  DLQ,
  ROLES,
  startPlatform,
  startReplica,
  TOPIC,
  type BrokerEnv,
  type ConsumerService,
  type Platform,
  type Replica,
} from './support/system';

const SIMULATED = 10_000;
const ADMIN_TOKEN = 'system-test';

/**
 * The whole hospital as separate OS processes: a broker, checkout with its
 * simulator, and billing, housekeeping and pharmacy with two replicas each,
 * against one real Postgres. The tests run in order and share the system.
 * They run twice: the services on our gRPC API, then the same services on
 * the broker's Kafka listener through KafkaJS (BROKER_PROTOCOL=kafka), as
 * they would run on Apache Kafka.
 */
describe.each(['grpc', 'kafka'] as const)(
  'system over %s: checkouts flow through three consumer groups, effectively once',
  (protocol) => {
    let services: BrokerEnv;
    let platform: Platform | undefined;
    let postgres: StartedPostgres;
    let broker: BrokerProcess;
    let connection: BrokerConnection;
    let admin: Admin;
    let db: Client;
    let replicas: Replica[] = [];
    let checkout: NodeProcess | undefined;

    const expectedState = async () => {
      const events = (await readTopic(connection, TOPIC)).flatMap((record) => {
        try {
          const event = PatientCheckedOut.decode(record.value);
          return event.checkoutId ? [event] : [];
        } catch {
          return [];
        }
      });
      return newestVersions(events);
    };
    const snapshot = async (service: ConsumerService) => checksum(await actualRows(db, service));
    /** Every group caught up; a group that is not says where it stands and what its replicas logged. */
    const allCaughtUp = () =>
      Promise.all(
        CONSUMERS.map((group) =>
          eventually(() => caughtUp(admin, group, TOPIC), `group ${group} to catch up`).catch(
            async (error: Error) => {
              const described = await admin.describeGroup(group).catch(() => undefined);
              const logs = replicas
                .filter((replica) => replica.service === group)
                .map(
                  (replica) => `--- ${replica.name}:\n${replica.process.output().slice(-4_000)}`,
                );
              throw new Error(
                `${error.message}\n${JSON.stringify(described, null, 1)?.slice(0, 4_000)}\n${logs.join('\n')}`,
              );
            },
          ),
        ),
      );

    beforeAll(async () => {
      platform = await startPlatform({
        BROKER_ADMIN_TOKEN: ADMIN_TOKEN,
        BROKER_KAFKA_PORT: protocol === 'kafka' ? '0' : '',
      });
      ({ postgres, broker } = platform);
      services = brokerEnv(protocol, broker);
      await bootstrapServiceDatabases(postgres.url, Object.values(ROLES));
      db = new Client({ connectionString: postgres.url });
      await db.connect();
      connection = new BrokerConnection({ broker: broker.address, adminToken: ADMIN_TOKEN });
      admin = new Admin(connection);
      // Migrations run at each service's start; the first replica of each applies them.
      for (const service of CONSUMERS)
        replicas.push(await startReplica(service, `${service}-1`, postgres.url, services));
      replicas.push(
        ...(await Promise.all(
          CONSUMERS.map((service) => startReplica(service, `${service}-2`, postgres.url, services)),
        )),
      );
    });

    afterAll(async () => {
      await Promise.all([checkout?.stop(), ...replicas.map((replica) => replica.process.stop())]);
      connection?.close();
      await db?.end();
      await platform?.stop();
    });

    it('10,000 simulated checkouts (with corrections, stale copies and bad records) end exactly in every schema, though a billing replica is SIGKILLed mid-batch', async () => {
      // Both replicas of every group own partitions before the flow starts.
      for (const group of CONSUMERS)
        await eventually(async () => {
          const described = await admin.describeGroup(group);
          return (
            described.members.length === 2 && described.members.every((member) => !member.idle)
          );
        }, `both ${group} replicas to own partitions`);

      checkout = await startService('checkout', {
        CHECKOUT_PORT: String(await findFreePort()),
        ...services,
        SIMULATOR_RATE: '2500',
        SIMULATOR_LIMIT: String(SIMULATED),
        SIMULATOR_CORRECTIONS: '0.03',
        SIMULATOR_SEED: '2026',
      });
      const finished = checkout.nextLine((line) => logMessage(line) === 'simulator finished');

      // Once the flow is under way, SIGKILL billing-1 while it is inside a
      // transaction (seen in pg_stat_activity).
      const invoices = async () =>
        Number((await db.query('SELECT count(*) FROM billing.invoice')).rows[0].count);
      await eventually(async () => (await invoices()) >= 1_000, 'billing to write 1,000 invoices', {
        everyMs: 20,
      });
      const victim = replicas.find((replica) => replica.name === 'billing-1')!;
      await eventually(
        async () =>
          (
            await db.query(
              `SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND xact_start IS NOT NULL`,
              [victim.name],
            )
          ).rowCount! > 0,
        'billing-1 to be inside a transaction',
        { everyMs: 1 },
      );
      await victim.process.kill();
      expect(await invoices()).toBeLessThan(SIMULATED);

      await finished;
      // Out-of-order and duplicated events, and two that no consumer can take.
      const simulated = (await readTopic(connection, TOPIC)).map((record) =>
        PatientCheckedOut.decode(record.value),
      );
      const corrected = simulated.filter((event) => event.eventVersion > 1).slice(0, 100);
      const stale = corrected.map((event) =>
        simulated.find((e) => e.checkoutId === event.checkoutId && e.eventVersion === 1)!,
      );
      const producer = new Producer(connection);
      const encode = (event: PatientCheckedOut) => ({
        key: event.patientId,
        value: Buffer.from(PatientCheckedOut.encode(event).finish()),
      });
      await producer.send({
        topic: TOPIC,
        messages: [
          ...stale.map(encode),
          ...simulated.slice(0, 100).map(encode),
          { key: 'P-garbage', value: Buffer.from([0xff, 0xff, 0xff, 0x01]) },
          encode(PatientCheckedOut.fromPartial({ ...simulated[0], checkoutId: '' })),
        ],
      });
      await producer.disconnect();
      expect(corrected.length).toBeGreaterThan(50);

      // Recovery: a new billing replica joins; the group rebalances and resumes.
      replicas = replicas.filter((replica) => replica !== victim);
      replicas.push(await startReplica('billing', 'billing-3', postgres.url, services));
      await allCaughtUp();

      // Over Kafka, every service spoke the Kafka protocol: the broker logged its clients' API versions.
      const kafkaClients = new Set(
        broker
          .output()
          .split('\n')
          .filter((line) => logMessage(line) === 'kafka client uses API version')
          .map((line) => (JSON.parse(line) as { clientId: string }).clientId.split('-')[0]),
      );
      expect([...kafkaClients].sort()).toEqual(
        protocol === 'kafka' ? ['billing', 'checkout', 'housekeeping', 'pharmacy'] : [],
      );

      // Every replica took part (the killed one's partitions moved to the others).
      for (const replica of replicas.filter((r) => r.name !== 'billing-3'))
        expect(await metric(replica, `${replica.service}_events_consumed_total`)).toBeGreaterThan(
          0,
        );

      const expected = await expectedState();
      expect(expected.length).toBeGreaterThan(SIMULATED - 400);
      for (const service of CONSUMERS) {
        const want = checksum(expected.map(EXPECTED[service]));
        expect({ service, ...(await snapshot(service)) }).toEqual({ service, ...want });
      }
      // No line doubled: billing's lines are exactly the newest versions' lines.
      const lines = expected.reduce((sum, event) => sum + event.chargeLines.length, 0);
      expect(
        Number((await db.query('SELECT count(*) FROM billing.invoice_line')).rows[0].count),
      ).toBe(lines);

      // Each group dead-lettered both bad records, with the reason, and kept going.
      const deadLetters = (await readTopic(connection, DLQ)).map((record) => ({
        group: record.headers['dlq-group']?.toString(),
        reason: record.headers['dlq-reason']?.toString(),
      }));
      for (const group of CONSUMERS) {
        const reasons = new Set(
          deadLetters.filter((letter) => letter.group === group).map((letter) => letter.reason),
        );
        expect([...reasons].sort()).toEqual([
          'checkout_id is missing',
          expect.stringMatching(/^undecodable: /),
        ]);
      }
    });

    it('resetting every group to the earliest offset replays the whole topic and leaves every table unchanged', async () => {
      const before: { [service: string]: { rows: number; sha256: string } } = {};
      for (const service of CONSUMERS) before[service] = await snapshot(service);
      // Offsets can only be reset for an Empty group, as with kafka-consumer-groups.
      await Promise.all(replicas.map((replica) => replica.process.stop()));
      replicas = [];
      const logEnd = (await admin.describeTopic(TOPIC)).partitions.reduce(
        (sum, partition) => sum + partition.logEndOffset,
        0,
      );
      for (const group of CONSUMERS) {
        const changes = await admin.resetOffsets(group, TOPIC, { earliest: true });
        expect(changes.every((change) => change.newOffset === 0)).toBe(true);
      }
      replicas = await Promise.all(
        CONSUMERS.map((service) =>
          startReplica(service, `${service}-replay`, postgres.url, services),
        ),
      );
      await allCaughtUp();
      for (const replica of replicas) {
        // Every record was read again (a rebalance during the replay may re-read
        // some: delivery is at least once); none of them changed a row.
        expect(
          await metric(replica, `${replica.service}_events_consumed_total`),
        ).toBeGreaterThanOrEqual(logEnd);
        expect(await metric(replica, `${replica.service}_rows_written_total`)).toBe(0);
        expect(await snapshot(replica.service)).toEqual(before[replica.service]);
      }
    });

    it("gives each service's role its own schema only: billing is denied pharmacy's and housekeeping's tables", async () => {
      const billing = new Client({ connectionString: serviceUrl(postgres.url, ROLES.billing) });
      await billing.connect();
      try {
        await expect(billing.query('SELECT count(*) FROM billing.invoice')).resolves.toBeDefined();
        await expect(billing.query('SELECT * FROM pharmacy.discharge_order')).rejects.toThrow(
          /permission denied for schema pharmacy/,
        );
        await expect(billing.query('SELECT * FROM housekeeping.turnover_task')).rejects.toThrow(
          /permission denied for schema housekeeping/,
        );
        await expect(
          billing.query(
            "UPDATE pharmacy.dispensed_medication SET quantity = 0 WHERE checkout_id = ''",
          ),
        ).rejects.toThrow(/permission denied for schema pharmacy/);
      } finally {
        await billing.end();
      }
    });
  },
);
