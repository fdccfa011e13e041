import { setTimeout as sleep } from 'node:timers/promises';
import type { CommitMode, EachMessagePayload } from '@hospital/broker-client';
import {
  identifier,
  readConsumedOffset,
  writeVersionedBatch,
  type SqlClient,
  type VersionedRowsSpec,
} from '@hospital/db';
import { Client } from 'pg';
import type { Experiment, Member } from './experiment';
import { Ledger, ranges, span } from './ledger';
import type { Scenarios } from './scenarios';

const GROUP = 'billing';

/** One row per record of the effectively-once lesson. */
interface Treatment {
  offset: number;
  value: string;
}

/**
 * The crash the lessons inject: consumer-a processed `crashAfter` and dies
 * before it commits again. Its partition goes to consumer-b once the
 * session times out, and consumer-b reads on to a sentinel record produced
 * after the crash, so everything before it has been read by someone.
 */
async function crashAndTakeOver(
  e: Experiment,
  topic: string,
  ledger: Ledger,
  takeOver: Parameters<Experiment['join']>[3] = {},
): Promise<{ committedAtCrash: number; sentinel: number }> {
  await e.until(() => !e.isMember('consumer-a'));
  const committedAtCrash = await e.committed(GROUP, topic);
  e.log(`  broker's committed offset after the crash: ${committedAtCrash}`);
  await e.join(GROUP, 'consumer-b', topic, {
    consumer: { commitMode: 'sync' },
    eachMessage: async ({ message }) => ledger.process('consumer-b', message.offset),
    ...takeOver,
  });
  await e.settled(GROUP, ['consumer-b']);
  const end = await e.admin.describeTopic(topic);
  const sentinel = end.partitions[0].logEndOffset;
  await e.produce(topic, 1);
  await e.until(() => ledger.lastBy('consumer-b') >= sentinel);
  return { committedAtCrash, sentinel };
}

const commitNext = (
  member: Member,
  { topic, partition, message }: Pick<EachMessagePayload, 'topic' | 'partition' | 'message'>,
) => member.consumer.commitOffsets([{ topic, partition, offset: message.offset + 1 }]);

/** A SqlClient over one pg connection (the services use Prisma's; the SQL is the same). */
function sql(client: Client): SqlClient {
  return {
    $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) =>
      (await client.query(query, values)).rows as T,
  };
}

export const OFFSET_SCENARIOS: Scenarios = {
  duplicates: {
    description:
      'at-least-once: commit after processing; processed to 9, committed through 6, crash → 7–9 processed again',
    run: async (e) => {
      const topic = await e.createTopic('duplicates', 1);
      await e.produce(topic, 10);
      const ledger = new Ledger();
      await e.join(GROUP, 'consumer-a', topic, {
        consumer: { commitMode: 'manual' },
        eachMessage: async (payload, member) => {
          ledger.process('consumer-a', payload.message.offset);
          // Commits after processing, every 7 records: through offset 6.
          if (payload.message.offset === 6) await commitNext(member, payload);
          // Processed 9, and dies before its next commit.
          if (payload.message.offset === 9) await e.leave('consumer-a', true);
        },
      });
      const { committedAtCrash } = await crashAndTakeOver(e, topic, ledger);
      const duplicated = ledger.duplicated();
      const predicted = span(committedAtCrash, ledger.lastBy('consumer-a'));
      e.evidence(
        'duplicated',
        duplicated,
        `consumer-a processed to ${ledger.lastBy('consumer-a')} and committed ${committedAtCrash}; duplicated offsets: ${ranges(duplicated)}`,
      );
      e.expect(
        ranges(duplicated) === ranges(predicted) && ranges(duplicated) === '7–9',
        `the new owner processed exactly the uncommitted range again (${ranges(predicted)})`,
      );
      e.expect(ledger.missing(0, 10).length === 0, 'no offset was skipped');
    },
  },
  missed: {
    description:
      'at-most-once: commit before processing; committed through 10, processed only to 2, crash → 3–10 skipped',
    run: async (e) => {
      const topic = await e.createTopic('missed', 1);
      await e.produce(topic, 11);
      const ledger = new Ledger();
      await e.join(GROUP, 'consumer-a', topic, {
        consumer: { commitMode: 'manual' },
        eachBatch: async ({ batch }, member) => {
          const last = batch.messages.at(-1);
          if (!last) return;
          // Commit on receipt, before any processing: the whole batch counts as done.
          await member.consumer.commitOffsets([
            { topic: batch.topic, partition: batch.partition, offset: last.offset + 1 },
          ]);
          for (const message of batch.messages) {
            if (member.crashed) return;
            ledger.process('consumer-a', message.offset);
            // Processed 2 of the batch it already committed, and dies.
            if (message.offset === 2) return e.leave('consumer-a', true);
          }
        },
      });
      const { committedAtCrash, sentinel } = await crashAndTakeOver(e, topic, ledger);
      const skipped = ledger.missing(0, sentinel - 1);
      const predicted = span(ledger.lastBy('consumer-a') + 1, committedAtCrash - 1);
      e.evidence(
        'skipped',
        skipped,
        `consumer-a committed ${committedAtCrash} and processed only to ${ledger.lastBy('consumer-a')}; skipped offsets: ${ranges(skipped)}`,
      );
      e.expect(
        ranges(skipped) === ranges(predicted) && ranges(skipped) === '3–10',
        `the records between the crash and the commit were never processed (${ranges(predicted)})`,
      );
      e.expect(ledger.duplicated().length === 0, 'nothing was processed twice');
    },
  },
  'effectively-once': {
    database: true,
    description:
      "the offset stored in the same Postgres transaction as the rows (the services' way): 0 duplicates, 0 missed through the same crash",
    run: async (e) => {
      if (!e.context.databaseUrl)
        throw new Error(
          'effectively-once needs Postgres: pass --database-url, or run it without --broker',
        );
      const client = new Client({ connectionString: e.context.databaseUrl });
      await client.connect();
      const schema = identifier(e.topicName('scenario').replace(/-/g, '_'), 'schema');
      try {
        await client.query(`CREATE SCHEMA ${schema}`);
        await client.query(
          `CREATE TABLE ${schema}."treatment" ("key" TEXT PRIMARY KEY, "version" BIGINT NOT NULL, "value" TEXT NOT NULL)`,
        );
        await client.query(
          `CREATE TABLE ${schema}."consumed_offset" ("topic" TEXT NOT NULL, "partition" INTEGER NOT NULL,
             "next_offset" BIGINT NOT NULL, "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
             PRIMARY KEY ("topic", "partition"))`,
        );
        const db = sql(client);
        const spec: VersionedRowsSpec<Treatment> = {
          schema: schema.replace(/"/g, ''),
          parent: {
            schema: schema.replace(/"/g, ''),
            table: 'treatment',
            columns: { key: 'text', version: 'bigint', value: 'text' },
            key: 'key',
            version: 'version',
          },
          key: (event) => `offset-${event.offset}`,
          version: (event) => event.offset,
          rows: (event) => ({
            parent: { key: `offset-${event.offset}`, version: event.offset, value: event.value },
          }),
        };
        const topic = await e.createTopic('effectively-once', 1);
        await e.produce(topic, 10);
        const ledger = new Ledger();
        const store = async (member: string, payload: EachMessagePayload) => {
          // The row and the next offset, in one statement: both or neither.
          await writeVersionedBatch(
            db,
            spec,
            [{ offset: payload.message.offset, value: payload.message.value?.toString() ?? '' }],
            {
              topic: payload.topic,
              partition: payload.partition,
              nextOffset: payload.message.offset + 1,
            },
          );
          ledger.process(member, payload.message.offset);
        };
        const storedOffset = ({ topic: t, partition }: { topic: string; partition: number }) =>
          readConsumedOffset(db, spec.schema, t, partition);
        await e.join(GROUP, 'consumer-a', topic, {
          consumer: { commitMode: 'manual', storedOffset },
          eachMessage: async (payload, member) => {
            await store('consumer-a', payload);
            // The broker's commit lags behind, as in the duplicates lesson: through offset 6.
            if (payload.message.offset === 6) await commitNext(member, payload);
            if (payload.message.offset === 9) await e.leave('consumer-a', true);
          },
        });
        const { committedAtCrash, sentinel } = await crashAndTakeOver(e, topic, ledger, {
          consumer: { commitMode: 'sync', storedOffset },
          eachMessage: (payload) => store('consumer-b', payload),
        });
        const rows = Number(
          (await client.query(`SELECT count(*) AS n FROM ${schema}."treatment"`)).rows[0].n,
        );
        const duplicated = ledger.duplicated();
        const missing = ledger.missing(0, sentinel);
        e.evidence(
          'effectivelyOnce',
          { committedAtCrash, duplicated, missing, rows },
          `broker committed ${committedAtCrash}, Postgres stored 10 with the rows; duplicated: ${ranges(duplicated)}; missed: ${ranges(missing)}; ${rows} rows`,
        );
        e.expect(
          duplicated.length === 0,
          'the new owner resumed from the offset stored with the rows: 0 duplicates',
        );
        e.expect(
          missing.length === 0 && rows === sentinel + 1,
          `0 missed: ${sentinel + 1} records, ${rows} rows`,
        );
      } finally {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
        await client.end();
      }
    },
  },
  'commit-modes': {
    description:
      'auto, sync, async and manual commits under the same crash: duplicates and throughput of each, side by side',
    run: async (e) => {
      const RECORDS = 4_000;
      const CRASH_AFTER = 2_999;
      const modes: { name: string; mode: CommitMode; perRecord: boolean }[] = [
        { name: 'auto (every 100 ms)', mode: 'auto', perRecord: false },
        { name: 'sync (after each batch)', mode: 'sync', perRecord: false },
        { name: 'async (after each batch)', mode: 'async', perRecord: false },
        { name: 'manual (each record, awaited)', mode: 'manual', perRecord: true },
      ];
      const rows: {
        mode: string;
        committed: number;
        duplicates: number;
        predicted: number;
        perSecond: number;
      }[] = [];
      for (const { name, mode, perRecord } of modes) {
        const topic = await e.createTopic(`commit-${mode}`, 1);
        const group = `commit-${mode}`;
        // Checkouts arrive 100 at a time, so the consumer reads them in batches.
        await e.produce(topic, RECORDS, 100);
        const ledger = new Ledger();
        let startedAt = 0;
        let crashedAt = 0;
        await e.join(group, 'consumer-a', topic, {
          consumer: { commitMode: mode, autoCommitIntervalMs: 100, maxBytesPerPartition: 8_192 },
          eachMessage: async (payload, member) => {
            if (startedAt === 0) startedAt = performance.now();
            // The same work for every mode: a short wait every 10 records.
            if (payload.message.offset % 10 === 0) await sleep(1);
            ledger.process('consumer-a', payload.message.offset);
            if (payload.message.offset === CRASH_AFTER) {
              crashedAt = performance.now();
              // Crash before this record's commit, whatever the mode.
              await e.leave('consumer-a', true);
              return;
            }
            if (perRecord) await commitNext(member, payload);
          },
        });
        await e.until(() => crashedAt > 0 && !e.isMember('consumer-a'));
        // The commit in effect when consumer-b takes over. Read at its first record, not at the
        // crash: a commit consumer-a sent just before crashing may land after the crash, but not
        // after the coordinator expelled consumer-a, which comes before consumer-b's assignment.
        let takenOverAt: number | undefined;
        await e.join(group, 'consumer-b', topic, {
          consumer: { commitMode: 'sync' },
          eachMessage: async ({ message }) => {
            takenOverAt ??= await e.committed(group, topic);
            ledger.process('consumer-b', message.offset);
          },
        });
        await e.until(() => ledger.lastBy('consumer-b') >= RECORDS - 1);
        await e.leave('consumer-b');
        const committed = takenOverAt ?? -1;
        const duplicates = ledger.duplicated().length;
        const predicted = CRASH_AFTER - Math.max(0, committed) + 1;
        rows.push({
          mode: name,
          committed,
          duplicates,
          predicted,
          perSecond: Math.round((CRASH_AFTER + 1) / ((crashedAt - startedAt) / 1000)),
        });
        e.expect(
          duplicates === predicted && ledger.missing(0, RECORDS - 1).length === 0,
          `${name}: ${duplicates} duplicates, exactly the records after the committed offset ${committed}; none missed`,
        );
      }
      e.evidence(
        'commitModes',
        rows,
        'mode                            committed  duplicates  records/s before the crash',
      );
      for (const row of rows)
        e.log(
          `  ${row.mode.padEnd(32)}${String(row.committed).padStart(9)}${String(row.duplicates).padStart(12)}${String(row.perSecond).padStart(12)}`,
        );
      const manual = rows.find((row) => row.mode.startsWith('manual'));
      e.expect(
        manual?.duplicates === 1,
        'committing each record costs throughput and leaves only the record in hand to repeat',
      );
    },
  },
  'static-membership': {
    description:
      'a static member (group.instance.id) restarted within its session timeout gets its partitions back with no rebalance',
    run: async (e) => {
      const topic = await e.createTopic('static', 4);
      const join = (name: string) =>
        e.join(GROUP, name, topic, {
          consumer: { groupInstanceId: name, sessionTimeoutMs: 10_000 },
        });
      await join('static-a');
      await join('static-b');
      const before = await e.settled(GROUP, ['static-a', 'static-b']);
      const rebalancesBefore = (await e.admin.describeGroup(e.topicName(GROUP))).rebalances.length;
      await e.leave('static-a', true);
      const member = await join('static-a');
      const back = member.consumer
        .assignment()
        .flatMap((entry) => entry.partitions)
        .sort((a, b) => a - b);
      const after = await e.admin.describeGroup(e.topicName(GROUP));
      e.evidence(
        'staticMembership',
        {
          generationBefore: before.generation,
          generationAfter: after.generationId,
          partitions: back,
        },
        `static-a restarted: generation ${before.generation} → ${after.generationId}, partitions [${back.join(', ')}] (before: [${before.assignment['static-a'].join(', ')}])`,
      );
      e.expect(
        after.generationId === before.generation,
        'no rebalance: the generation did not change',
      );
      e.expect(
        back.join(',') === before.assignment['static-a'].join(','),
        'the restarted member got exactly its old partitions back',
      );
      e.expect(
        after.rebalances.length === rebalancesBefore,
        'the group history records no new rebalance',
      );
    },
  },
};
