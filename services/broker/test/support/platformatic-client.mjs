// @platformatic/kafka in its own process: it ships only as an ES module, and
// Jest runs the specs as CommonJS. `produce` sends the JSON records given and
// prints what the broker answered; `consume` joins a group from the earliest
// offset, prints each record as a JSON line and commits it, and once it has
// `count` records leaves the group and prints "left".
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';

const [command, address, topic, argument, count] = process.argv.slice(2);
const line = (value) =>
  process.stdout.write(
    `${JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? String(v) : v))}\n`,
  );

async function produce() {
  const producer = new Producer({
    clientId: 'platformatic-spec',
    bootstrapBrokers: [address],
    serializers: stringSerializers,
    acks: -1,
  });
  const records = JSON.parse(argument);
  line(await producer.send({ messages: records.map((record) => ({ topic, ...record })) }));
  await producer.close();
}

async function consume() {
  const consumer = new Consumer({
    clientId: 'platformatic-spec',
    groupId: argument,
    bootstrapBrokers: [address],
    deserializers: stringDeserializers,
  });
  const stream = await consumer.consume({
    topics: [topic],
    mode: 'earliest',
    autocommit: false,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
  });
  let seen = 0;
  for await (const message of stream) {
    const { partition, offset, key, value, headers, timestamp } = message;
    // A null key comes back undefined from the string deserializer.
    line({
      partition,
      offset,
      key: key ?? null,
      value,
      headers: Object.fromEntries(headers),
      timestamp,
    });
    await message.commit();
    if (++seen === Number(count)) break;
  }
  await stream.close();
  await consumer.close();
  line('left');
}

(command === 'produce' ? produce() : consume()).catch((error) => {
  process.stderr.write(`${error.stack}\n${JSON.stringify(error.errors ?? [])}\n`);
  process.exit(1);
});
