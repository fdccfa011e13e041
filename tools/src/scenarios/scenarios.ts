import { Experiment, type ScenarioContext, type ScenarioReport } from './experiment';
import { OFFSET_SCENARIOS } from './offset-scenarios';

export type { ScenarioContext, ScenarioReport } from './experiment';

const sizes = (assignment: { [member: string]: number[] }) =>
  Object.values(assignment)
    .map((partitions) => partitions.length)
    .sort((a, b) => b - a);
const covers = (assignment: { [member: string]: number[] }, partitions: number) =>
  Object.values(assignment)
    .flat()
    .sort((a, b) => a - b)
    .join(',') === Array.from({ length: partitions }, (_, i) => i).join(',');

export type ScenarioRun = (experiment: Experiment) => Promise<void>;
export type Scenarios = {
  [name: string]: {
    description: string;
    run: ScenarioRun;
    /** Needs a Postgres server (ScenarioContext.databaseUrl). */
    database?: boolean;
  };
};

/** The source material's group experiments, each checking its expected outcome. */
const GROUP_SCENARIOS: Scenarios = {
  basic: {
    description: '3 partitions, 2 consumers: one gets two partitions, the other one',
    run: async (e) => {
      const topic = await e.createTopic('basic', 3);
      await e.member('billing', 'consumer-a', topic);
      await e.member('billing', 'consumer-b', topic);
      const { assignment } = await e.settled('billing', ['consumer-a', 'consumer-b']);
      e.expect(covers(assignment, 3), 'every partition has exactly one owner');
      e.expect(sizes(assignment).join('/') === '2/1', 'the split is 2 and 1');
    },
  },
  scaling: {
    description: '1 → 2 → 3 consumers on 3 partitions, then one leaves',
    run: async (e) => {
      const topic = await e.createTopic('scaling', 3);
      await e.member('billing', 'c1', topic);
      e.expect(
        sizes((await e.settled('billing', ['c1'])).assignment).join('/') === '3',
        'c1 alone owns all 3',
      );
      await e.member('billing', 'c2', topic);
      e.expect(
        sizes((await e.settled('billing', ['c1', 'c2'])).assignment).join('/') === '2/1',
        'two consumers split 2/1',
      );
      await e.member('billing', 'c3', topic);
      e.expect(
        sizes((await e.settled('billing', ['c1', 'c2', 'c3'])).assignment).join('/') === '1/1/1',
        'three consumers own one each',
      );
      await e.leave('c3');
      const { assignment: after } = await e.settled('billing', ['c1', 'c2']);
      e.expect(covers(after, 3) && sizes(after).join('/') === '2/1', 'after c3 leaves: 2/1 again');
    },
  },
  failure: {
    description:
      'one of 3 consumers crashes; the others take its partition after the session timeout',
    run: async (e) => {
      const topic = await e.createTopic('failure', 3);
      for (const name of ['c1', 'c2', 'c3']) await e.member('billing', name, topic);
      await e.settled('billing', ['c1', 'c2', 'c3']);
      await e.leave('c2', true);
      const { assignment: after } = await e.settled('billing', ['c1', 'c3']);
      e.expect(covers(after, 3), 'c1 and c3 own all 3 partitions after c2 crashed');
      await e.member('billing', 'c2', topic);
      const { assignment: back } = await e.settled('billing', ['c1', 'c2', 'c3']);
      e.expect(sizes(back).join('/') === '1/1/1', 'a restarted c2 gets a partition back');
    },
  },
  'idle-consumers': {
    description: '3 partitions, 4 consumers: one is idle',
    run: async (e) => {
      const topic = await e.createTopic('idle', 3);
      const names = ['c1', 'c2', 'c3', 'c4'];
      for (const name of names) await e.member('billing', name, topic);
      const { assignment } = await e.settled('billing', names);
      e.expect(sizes(assignment).join('/') === '1/1/1/0', 'three own one partition, one is idle');
    },
  },
  'two-groups': {
    description: 'billing and pharmacy on one topic: each group gets every event',
    run: async (e) => {
      const topic = await e.createTopic('two-groups', 3);
      await e.member('billing', 'billing-1', topic);
      await e.member('pharmacy', 'pharmacy-1', topic);
      await e.settled('billing', ['billing-1']);
      await e.settled('pharmacy', ['pharmacy-1']);
      await e.produce(topic, 60);
      await e.received(['billing-1', 'pharmacy-1'], 60);
      e.expect(
        e.receivedBy('billing-1') === 60 && e.receivedBy('pharmacy-1') === 60,
        'each group received all 60 events, once',
      );
    },
  },
  'partitions-added': {
    description: 'partitions added to a subscribed topic: the group rebalances onto them',
    run: async (e) => {
      const topic = await e.createTopic('grow', 2);
      await e.member('billing', 'c1', topic);
      await e.member('billing', 'c2', topic);
      const before = await e.settled('billing', ['c1', 'c2']);
      e.expect(sizes(before.assignment).join('/') === '1/1', 'one each of 2');
      await e.addPartitions(topic, 4);
      const { assignment } = await e.settled('billing', ['c1', 'c2'], before.generation);
      e.expect(
        covers(assignment, 4) && sizes(assignment).join('/') === '2/2',
        'after growing to 4: a new generation, two each',
      );
    },
  },
};

/** The group experiments alone: these also run with KafkaJS members (ScenarioContext.kafkaBrokers). */
export const GROUP_SCENARIO_NAMES = Object.keys(GROUP_SCENARIOS);

/** Every experiment: the group ones, then the offsets lessons. */
export const SCENARIOS: Scenarios = { ...GROUP_SCENARIOS, ...OFFSET_SCENARIOS };

export async function runScenario(name: string, context: ScenarioContext): Promise<ScenarioReport> {
  const scenario = SCENARIOS[name];
  if (!scenario) throw new Error(`unknown scenario "${name}"`);
  context.log(`scenario ${name}: ${scenario.description}`);
  const experiment = new Experiment(name, context);
  try {
    await scenario.run(experiment);
  } finally {
    await experiment.close();
  }
  return experiment.report;
}
