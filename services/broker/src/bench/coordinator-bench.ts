// Coordinator cost, broker side: from the first JoinGroup of N new members to
// a Stable group with every SyncGroup answered, calling the coordinator
// in-process (no network) on a real broker with its __consumer_offsets log.
// Prints one JSON line per case; run by `npm run bench`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConsumerSubscription,
  ErrorReason,
  GroupState,
  type JoinGroupResponse,
} from '@hospital/proto';
import pino from 'pino';
import { Broker } from '../broker';
import { rangeAssignment } from './range-assignment';
import { loadBrokerConfig } from '../config/broker-config';
import type { BrokerError } from '../errors/broker-error';

interface CaseResult {
  members: number;
  partitions: number;
  medianMs: number;
  p90Ms: number;
  runs: number;
}

/**
 * N members start at once and behave as real clients do: the two-step join,
 * the leader assigns (range), everyone syncs, and a member told of a new
 * rebalance (prompt notice) rejoins. Done when all N sit in one Stable generation.
 */
async function joinToStable(
  broker: Broker,
  groupId: string,
  members: number,
  partitions: number,
): Promise<number> {
  const metadata = Buffer.from(
    ConsumerSubscription.encode({
      topics: ['bench.topic'],
      userData: Buffer.alloc(0),
      ownedPartitions: [],
      generationId: -1,
    }).finish(),
  );
  const { coordinator } = broker;
  const isDone = () => {
    const group = coordinator.group(groupId);
    return (
      group !== undefined &&
      group.members.size === members &&
      group.state === GroupState.GROUP_STATE_STABLE
    );
  };
  const member = async (index: number): Promise<void> => {
    let memberId = '';
    for (;;) {
      let joined: JoinGroupResponse;
      try {
        joined = await coordinator.joinGroup(
          {
            groupId,
            sessionTimeoutMs: 30_000,
            rebalanceTimeoutMs: 30_000,
            memberId,
            groupInstanceId: undefined,
            protocolType: 'consumer',
            protocols: [{ name: 'range', metadata }],
            clientId: `member-${String(index).padStart(4, '0')}`,
            reason: '',
          },
          '127.0.0.1',
        );
        memberId = joined.memberId;
        await coordinator.syncGroup({
          groupId,
          generationId: joined.generationId,
          memberId,
          groupInstanceId: undefined,
          protocolType: 'consumer',
          protocolName: joined.protocolName,
          assignments:
            joined.leader === memberId
              ? rangeAssignment(
                  joined.members.map((other) => other.memberId),
                  'bench.topic',
                  partitions,
                )
              : [],
        });
      } catch (error) {
        const failure = error as BrokerError;
        if (failure.reason === ErrorReason.MEMBER_ID_REQUIRED)
          memberId = failure.metadata.member_id;
        else if (failure.reason === ErrorReason.UNKNOWN_MEMBER_ID) memberId = '';
        else if (
          failure.reason !== ErrorReason.REBALANCE_IN_PROGRESS &&
          failure.reason !== ErrorReason.ILLEGAL_GENERATION
        )
          throw error;
        continue;
      }
      if (isDone()) return;
      // Wait to be told of the next rebalance, then rejoin.
      await new Promise<void>((resolve) => {
        const stop = coordinator.watchMembership(groupId, memberId, joined.generationId, () => {
          stop();
          resolve();
        });
      });
      if (isDone()) return;
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: members }, (_, index) => member(index)));
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const dataDir = mkdtempSync(join(tmpdir(), 'coordinator-bench-'));
  const config = loadBrokerConfig({
    BROKER_DATA_DIR: dataDir,
    BROKER_TOPICS: 'bench.topic:1000',
    BROKER_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
  });
  const broker = new Broker(config, pino({ level: 'silent' }));
  broker.start();
  // The broker's timers are unref'd (they never hold a server open); hold this process open ourselves.
  const keepAlive = setInterval(() => {}, 1_000);
  try {
    for (const [members, partitions] of [
      [4, 4],
      [100, 1000],
    ]) {
      const times: number[] = [];
      for (let run = 0; run < runs + 1; run++) {
        const ms = await joinToStable(broker, `bench-${members}-${run}`, members, partitions);
        if (run > 0) times.push(ms); // the first run warms up the JIT
      }
      times.sort((a, b) => a - b);
      const result: CaseResult = {
        members,
        partitions,
        medianMs: Number(times[Math.floor(times.length / 2)].toFixed(2)),
        p90Ms: Number(times[Math.min(times.length - 1, Math.floor(times.length * 0.9))].toFixed(2)),
        runs,
      };
      process.stdout.write(`${JSON.stringify(result)}\n`);
    }
  } catch (error) {
    process.stderr.write(`coordinator bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  } finally {
    clearInterval(keepAlive);
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`coordinator bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
