import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort, startProgram, type NodeProcess } from '@hospital/processes';
import { ensureDebianTool } from '@hospital/testing';
import { eventually } from './system';

/** One partition of a group as Burrow's /lag reports it. */
export interface BurrowPartition {
  topic: string;
  partition: number;
  /** The last commit Burrow read from __consumer_offsets. */
  committed: number;
  /** The newest log end Burrow asked the broker for (ListOffsets) less that commit. */
  lag: number;
  /** The member's host, from the group's metadata record. */
  owner: string;
}

export interface Burrow {
  /** Burrow's per-partition view of a group; empty while it knows no commit of the group. */
  lag(group: string): Promise<BurrowPartition[]>;
  /** What Burrow logged, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const CLUSTER = 'hospital';
const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';

/**
 * LinkedIn's Burrow (Debian's, 1.2) pointed at the broker's Kafka listener.
 * It reads commits the way it reads them from Apache Kafka: by consuming
 * __consumer_offsets, and by asking each partition's log end with
 * ListOffsets. Burrow 1.2 keeps its own state in ZooKeeper, so a ZooKeeper
 * (Debian's) runs beside it, on loopback, for the test alone.
 */
export async function startBurrow(kafkaAddress: string): Promise<Burrow> {
  ensureDebianTool('Burrow', 'burrow');
  ensureDebianTool(ZOOKEEPER_JAR, 'zookeeper');
  const dir = mkdtempSync(join(tmpdir(), 'burrow-'));
  const [zookeeperPort, httpPort] = [await findFreePort(), await findFreePort()];
  writeFileSync(
    join(dir, 'zoo.cfg'),
    [
      'tickTime=2000',
      `dataDir=${join(dir, 'zookeeper')}`,
      `clientPort=${zookeeperPort}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      '4lw.commands.whitelist=srvr',
    ].join('\n'),
  );
  const zookeeper = await startProgram('zookeeper', 'java', [
    '-cp',
    `/etc/zookeeper/conf:${ZOOKEEPER_JAR}`,
    'org.apache.zookeeper.server.ZooKeeperServerMain',
    join(dir, 'zoo.cfg'),
  ]);
  let burrow: NodeProcess | undefined;
  const stop = async () => {
    await burrow?.stop();
    await zookeeper.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(() => serving(zookeeperPort), 'ZooKeeper to serve', { timeoutMs: 30_000 });
    writeFileSync(
      join(dir, 'burrow.toml'),
      burrowConfig(dir, kafkaAddress, zookeeperPort, httpPort),
    );
    burrow = await startProgram('burrow', 'Burrow', ['-config-dir', dir]);
    const base = `http://127.0.0.1:${httpPort}`;
    const started = burrow;
    await Promise.race([
      eventually(
        () =>
          fetch(`${base}/burrow/admin`).then(
            (response) => response.ok,
            () => false,
          ),
        `Burrow to serve HTTP on ${httpPort}`,
        { timeoutMs: 30_000 },
      ),
      started.exited.then((how) => {
        throw new Error(`Burrow exited (${how}) before it served`);
      }),
    ]);
    return {
      async lag(group) {
        const response = await fetch(`${base}/v3/kafka/${CLUSTER}/consumer/${group}/lag`);
        const body = (await response.json()) as { status?: { partitions?: LagPartition[] } };
        return (body.status?.partitions ?? [])
          .map((entry) => ({
            topic: entry.topic,
            partition: entry.partition,
            committed: entry.end?.offset ?? -1,
            lag: entry.current_lag,
            owner: entry.owner,
          }))
          .sort((a, b) => a.partition - b.partition);
      },
      output: () => started.output(),
      stop,
    };
  } catch (error) {
    const logs = `--- zookeeper:\n${zookeeper.output()}\n--- burrow:\n${burrow?.output() ?? ''}`;
    await stop();
    throw new Error(`${(error as Error).message}\n${logs}`, { cause: error });
  }
}

interface LagPartition {
  topic: string;
  partition: number;
  owner: string;
  end?: { offset: number };
  current_lag: number;
}

/**
 * ZooKeeper's four-letter "srvr": its mode once it serves sessions. ("ruok"
 * says imok earlier, while a session is still refused.)
 */
function serving(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.end('srvr'));
    // A ZooKeeper still starting may accept and say nothing: ask again later.
    socket.setTimeout(2_000, () => socket.destroy());
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer.includes('Mode: standalone')));
    socket.on('error', () => resolve(false));
  });
}

/**
 * Burrow's configuration: the broker as its one cluster, read every second
 * (log ends, and the consumer's fetches of __consumer_offsets), answers
 * cached for a second. Kafka version 2.0 keeps Burrow's sarama on that
 * release's request versions (Metadata 5, Fetch 4, ListOffsets 0 and 1).
 */
function burrowConfig(
  dir: string,
  kafkaAddress: string,
  zookeeperPort: number,
  httpPort: number,
): string {
  return `
[general]
pidfile="${join(dir, 'burrow.pid')}"
[logging]
level="info"
[zookeeper]
servers=["127.0.0.1:${zookeeperPort}"]
timeout=6
root-path="/burrow"
[client-profile.hospital]
client-id="burrow"
kafka-version="2.0.0"
[cluster.${CLUSTER}]
class-name="kafka"
servers=["${kafkaAddress}"]
client-profile="hospital"
topic-refresh=5
offset-refresh=1
[consumer.${CLUSTER}]
class-name="kafka"
cluster="${CLUSTER}"
servers=["${kafkaAddress}"]
client-profile="hospital"
[httpserver.default]
address="127.0.0.1:${httpPort}"
[storage.default]
class-name="inmemory"
workers=4
intervals=10
min-distance=1
[evaluator.default]
class-name="caching"
expire-cache=1
`;
}
