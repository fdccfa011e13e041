import { crc32c, RecordBatch, RecordSet, type LogRecord } from '@hospital/proto';

/** What the cleaner decides for one record: its offset, key (hex, undefined without one), tombstone or not. */
export interface RecordFacts {
  offset: number;
  key: string | undefined;
  tombstone: boolean;
}

/** The records of a stored batch, as the cleaner needs to see them. */
export function recordFacts(payload: Buffer): RecordFacts[] {
  const batch = RecordBatch.decode(payload);
  return RecordSet.decode(batch.records).records.map((record) => ({
    offset: batch.baseOffset + record.offsetDelta,
    key: record.key === undefined ? undefined : Buffer.from(record.key).toString('hex'),
    tombstone: record.value.length === 0,
  }));
}

/**
 * A stored batch with only the records `keep` accepts, as Kafka's cleaner
 * rewrites a batch: base offset, offset span (record_count), timestamps and
 * append time stay, the records keep their offset deltas (so offsets become
 * sparse) and the checksum is recomputed. Undefined when nothing is kept and
 * the batch may go; with `keepEmpty` an empty batch stays, holding its offsets.
 */
export function compactBatch(
  payload: Buffer,
  keep: (facts: RecordFacts) => boolean,
  keepEmpty: boolean,
): { payload: Buffer; kept: number; dropped: number } | undefined {
  const batch = RecordBatch.decode(payload);
  const records = RecordSet.decode(batch.records).records;
  const kept: LogRecord[] = records.filter((record) =>
    keep({
      offset: batch.baseOffset + record.offsetDelta,
      key: record.key === undefined ? undefined : Buffer.from(record.key).toString('hex'),
      tombstone: record.value.length === 0,
    }),
  );
  if (kept.length === records.length) return { payload, kept: kept.length, dropped: 0 };
  if (kept.length === 0 && !keepEmpty) return undefined;
  const encoded = Buffer.from(RecordSet.encode({ records: kept }).finish());
  const rewritten = Buffer.from(
    RecordBatch.encode({ ...batch, records: encoded, crc: crc32c(encoded) }).finish(),
  );
  return { payload: rewritten, kept: kept.length, dropped: records.length - kept.length };
}
