import { startBroker, type BrokerProcess } from '@hospital/processes';
import { runScenario, SCENARIOS } from '../src/scenarios/scenarios';

const TOKEN = 'scenarios';

describe("the source material's experiments (hospital scenario <name>)", () => {
  let broker: BrokerProcess;
  beforeAll(async () => {
    broker = await startBroker({
      env: { BROKER_ADMIN_TOKEN: TOKEN, BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '300' },
    });
  });
  afterAll(async () => {
    await broker?.stop();
    broker?.cleanup();
  });

  it.each(Object.keys(SCENARIOS))('%s: the expected outcome happens', async (name) => {
    const lines: string[] = [];
    const report = await runScenario(name, {
      broker: broker.address,
      adminToken: TOKEN,
      log: (line) => lines.push(line),
    });
    expect({ name, failures: report.failures }).toEqual({ name, failures: [] });
    // Every generation reported is printed with each member's partitions.
    expect(report.generations.length).toBeGreaterThan(0);
    expect(lines.filter((line) => line.startsWith('✔')).length).toBeGreaterThan(0);
  });

  it('basic: the members agree on one generation where the 3 partitions split 2/1', async () => {
    const report = await runScenario('basic', {
      broker: broker.address,
      adminToken: TOKEN,
      log: () => {},
    });
    const last = report.generations.at(-1)!;
    expect(
      Object.values(last.assignment)
        .map((partitions) => partitions.length)
        .sort(),
    ).toEqual([1, 2]);
  });
});
