import {
  startBroker,
  startEmbeddedPostgres,
  type BrokerProcess,
  type EmbeddedPostgres,
} from '@hospital/processes';
import {
  GROUP_SCENARIO_NAMES,
  runScenario,
  SCENARIOS,
  type ScenarioReport,
} from '../src/scenarios/scenarios';

const TOKEN = 'scenarios';

describe("the source material's experiments (hospital scenario <name>)", () => {
  let broker: BrokerProcess;
  let postgres: EmbeddedPostgres;
  const reports = new Map<string, { report: ScenarioReport; lines: string[] }>();
  beforeAll(async () => {
    [broker, postgres] = await Promise.all([
      startBroker({
        env: {
          BROKER_ADMIN_TOKEN: TOKEN,
          BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '300',
          BROKER_KAFKA_PORT: '0',
        },
      }),
      startEmbeddedPostgres(),
    ]);
  }, 120_000);
  afterAll(async () => {
    await broker?.stop();
    broker?.cleanup();
    await postgres?.stop();
  });

  const run = async (name: string) => {
    const lines: string[] = [];
    const report = await runScenario(name, {
      broker: broker.address,
      adminToken: TOKEN,
      databaseUrl: postgres.url,
      log: (line) => lines.push(line),
    });
    reports.set(name, { report, lines });
    return { report, lines };
  };

  it.each(Object.keys(SCENARIOS))(
    '%s: the expected outcome happens',
    async (name) => {
      const { report, lines } = await run(name);
      expect({ name, failures: report.failures }).toEqual({ name, failures: [] });
      // Every generation reported is printed with each member's partitions.
      expect(report.generations.length).toBeGreaterThan(0);
      expect(lines.filter((line) => line.startsWith('✔')).length).toBeGreaterThan(0);
    },
    60_000,
  );

  it('basic: the members agree on one generation where the 3 partitions split 2/1', () => {
    const last = reports.get('basic')!.report.generations.at(-1)!;
    expect(
      Object.values(last.assignment)
        .map((partitions) => partitions.length)
        .sort(),
    ).toEqual([1, 2]);
  });

  it('duplicates and missed print the exact offset ranges the crash predicts', () => {
    expect(reports.get('duplicates')!.report.evidence.duplicated).toEqual([7, 8, 9]);
    expect(reports.get('duplicates')!.lines.join('\n')).toContain('duplicated offsets: 7–9');
    expect(reports.get('missed')!.report.evidence.skipped).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(reports.get('missed')!.lines.join('\n')).toContain('skipped offsets: 3–10');
  });

  it('effectively-once: the same crash, 0 duplicates and 0 missed, while the broker’s commit lagged', () => {
    expect(reports.get('effectively-once')!.report.evidence.effectivelyOnce).toEqual({
      committedAtCrash: 7,
      duplicated: [],
      missing: [],
      rows: 11,
    });
  });

  it('commit-modes: each mode repeats exactly what followed its last commit; manual repeats one record', () => {
    const rows = reports.get('commit-modes')!.report.evidence.commitModes as {
      mode: string;
      duplicates: number;
      predicted: number;
    }[];
    expect(rows.map((row) => row.mode.split(' ')[0])).toEqual(['auto', 'sync', 'async', 'manual']);
    for (const row of rows) expect(row.duplicates).toBe(row.predicted);
    expect(rows[3].duplicates).toBe(1);
  });

  /** Each group's last generation as the multiset of what its members owned. */
  const shares = (report: ScenarioReport) => {
    const last = new Map<string, string[]>();
    for (const generation of report.generations)
      last.set(
        generation.group,
        Object.values(generation.assignment)
          .map((partitions) => partitions.join(','))
          .sort(),
      );
    return Object.fromEntries(last);
  };

  it.each(GROUP_SCENARIO_NAMES)(
    '%s with KafkaJS members over the Kafka protocol: the same outcome and the same assignments',
    async (name) => {
      const lines: string[] = [];
      const report = await runScenario(name, {
        broker: broker.address,
        kafkaBrokers: broker.kafkaAddress,
        adminToken: TOKEN,
        log: (line) => lines.push(line),
      });
      expect({ name, failures: report.failures, lines }).toEqual({ name, failures: [], lines });
      expect(shares(report)).toEqual(shares(reports.get(name)!.report));
    },
    60_000,
  );
});
