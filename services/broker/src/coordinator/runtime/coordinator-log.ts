import {
  CleanupPolicy,
  decodeRecordBatch,
  encodeRecordBatch,
  partitionForKey,
  RecordBatch,
} from '@hospital/proto';
import type { GroupCommit } from '../../storage/group-commit';
import type { TopicStore } from '../../storage/topic-store';
import type { EncodedRecord } from '../records/record-codec';
import type { CoordinatorLogWriter } from './coordinator-runtime';

export const OFFSETS_TOPIC = '__consumer_offsets';

/**
 * The coordinator's durable state: records appended to the internal
 * compacted topic __consumer_offsets (one partition per group, chosen by
 * key), acknowledged once durable, and read back in full on start.
 */
export class CoordinatorLog implements CoordinatorLogWriter {
  constructor(
    private readonly store: TopicStore,
    private readonly groupCommit: GroupCommit,
    private readonly partitions: number,
    private readonly now: () => number,
    /** Small enough that segments close often: the cleaner compacts only closed ones. */
    private readonly segmentBytes: number,
  ) {}

  ensureTopic(): void {
    if (this.store.has(OFFSETS_TOPIC)) return;
    const settings = this.store.resolveSettings({
      cleanupPolicy: CleanupPolicy.CLEANUP_POLICY_COMPACT,
      retentionMs: -1,
      segmentBytes: this.segmentBytes,
    });
    this.store.create(OFFSETS_TOPIC, this.partitions, settings, true);
  }

  partitionFor(groupId: string): number {
    return partitionForKey(groupId, this.store.get(OFFSETS_TOPIC).partitions.length);
  }

  async append(groupId: string, records: EncodedRecord[]): Promise<void> {
    if (records.length === 0) return;
    const log = this.store.partition(OFFSETS_TOPIC, this.partitionFor(groupId));
    const batch = encodeRecordBatch(
      records.map((record) => ({ key: record.key, value: record.value })),
      { producerId: 'coordinator', now: this.now() },
    );
    const [result] = log.append(
      [
        {
          bytes: Buffer.from(RecordBatch.encode(batch).finish()),
          recordCount: records.length,
          maxTimestampMs: batch.maxTimestampMs,
        },
      ],
      this.now(),
    );
    await this.groupCommit.waitDurable(log, result.lastOffset + 1);
  }

  /** Every record, partition by partition, in log order. */
  *readAll(): Generator<EncodedRecord> {
    for (const log of this.store.get(OFFSETS_TOPIC).partitions) {
      let offset = log.logStartOffset;
      while (offset < log.logEndOffset) {
        const { batches } = log.read(offset, 1 << 20);
        if (batches.length === 0) break;
        for (const bytes of batches) {
          const batch = RecordBatch.decode(bytes);
          for (const record of decodeRecordBatch(batch)) {
            if (record.offset < offset) continue;
            yield { key: record.key ?? Buffer.alloc(0), value: record.value };
          }
          // A cleaned batch may have lost its last records, or all of them: its span still counts.
          offset = Math.max(offset, batch.baseOffset + batch.recordCount);
        }
      }
    }
  }
}
