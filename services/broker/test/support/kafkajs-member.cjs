// A KafkaJS group member in its own process, so a test can SIGKILL it: it
// prints "assigned <json>" after every rebalance and never leaves on its own.
const { Kafka, logLevel } = require('kafkajs');

const [brokers, groupId, topic, sessionTimeout] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: 'kafkajs-member',
  brokers: [brokers],
  logLevel: logLevel.NOTHING,
});
const consumer = kafka.consumer({
  groupId,
  sessionTimeout: Number(sessionTimeout),
  heartbeatInterval: 200,
  // KafkaJS heartbeats between fetches: a long poll well inside the session keeps it alive.
  maxWaitTimeInMs: 300,
});
consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
  process.stdout.write(
    `assigned ${JSON.stringify({ memberId: payload.memberId, assignment: payload.memberAssignment })}\n`,
  );
});
(async () => {
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async () => undefined });
})().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
