import { decodeRecordBatch, type IncomingRecord, type RecordBatch } from '@hospital/proto';

/**
 * Reads a partition from `from` to its end, whatever client does the Fetch:
 * `fetchBatches(offset)` returns the batches a Fetch at `offset` answered.
 * Batches may start before the offset asked for; those records are skipped.
 */
export async function readPartition(
  fetchBatches: (offset: number) => Promise<RecordBatch[]>,
  from = 0,
): Promise<IncomingRecord[]> {
  const records: IncomingRecord[] = [];
  let offset = from;
  for (;;) {
    const fresh = (await fetchBatches(offset))
      .flatMap(decodeRecordBatch)
      .filter((record) => record.offset >= offset);
    if (fresh.length === 0) return records;
    records.push(...fresh);
    offset = fresh[fresh.length - 1].offset + 1;
  }
}
