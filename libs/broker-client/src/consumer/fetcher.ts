import { decodeRecordBatch, ErrorReason, type IncomingRecord } from '@hospital/proto';
import type { BrokerConnection } from '../connection/broker-connection';
import { toClientError } from '../errors';
import { backoffMs, delay, type RetryOptions } from '../retry';
import type { OwnedPartitions, PartitionState } from './partition-state';
import type { StartingPositions } from './starting-positions';
import { toTopicPartitions, tpKey } from './topic-partition';

export interface FetcherOptions {
  maxWaitMs: number;
  maxBytesPerPartition: number;
  retry: RetryOptions;
}

/** Records fetched for one owned partition, from the position that was asked for. */
export interface FetchedBatch {
  state: PartitionState;
  records: IncomingRecord[];
  highWatermark: number;
}

const MAX_FETCH_BYTES = 16 * 1024 * 1024;

/**
 * One long-polling Fetch over every readable partition this member owns.
 * A pause, seek or rebalance aborts the fetch in flight; answers for a
 * partition revoked or sought meanwhile are dropped; an out-of-range offset
 * goes back to the reset policy.
 */
export class Fetcher {
  private inFlight: AbortController | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly connection: BrokerConnection,
    private readonly owned: OwnedPartitions,
    private readonly positions: StartingPositions,
    private readonly options: FetcherOptions,
  ) {}

  /** Cancels the fetch in flight (or the idle wait): the loop comes round at once. */
  interrupt(): void {
    this.inFlight?.abort();
    this.wake?.();
  }

  async fetch(): Promise<FetchedBatch[]> {
    const readable = this.owned.all().filter((state) => state.readable);
    if (readable.length === 0) {
      await this.idle();
      return [];
    }
    const asked = new Map(readable.map((state) => [state.key, state.position as number]));
    const abort = (this.inFlight = new AbortController());
    let response;
    try {
      response = await this.connection.fetch(
        {
          maxWaitMs: this.options.maxWaitMs,
          minBytes: 1,
          maxBytes: MAX_FETCH_BYTES,
          topics: toTopicPartitions(asked.keys()).map(({ topic, partitions }) => ({
            name: topic,
            partitions: partitions.map((partition) => ({
              partition,
              fetchOffset: asked.get(tpKey(topic, partition)) as number,
              partitionMaxBytes: this.options.maxBytesPerPartition,
            })),
          })),
        },
        { timeoutMs: this.options.maxWaitMs + 10_000, signal: abort.signal },
      );
    } catch (error) {
      const failure = toClientError(error);
      if (abort.signal.aborted) return [];
      if (
        failure.is(ErrorReason.OFFSET_OUT_OF_RANGE) ||
        failure.is(ErrorReason.UNKNOWN_TOPIC_OR_PARTITION)
      ) {
        await this.positions.reset(readable);
        return [];
      }
      if (!failure.retriable) throw failure;
      await delay(backoffMs(1, this.options.retry));
      return [];
    } finally {
      this.inFlight = undefined;
    }
    const out: FetchedBatch[] = [];
    const outOfRange: PartitionState[] = [];
    for (const topic of response.topics) {
      for (const slot of topic.partitions) {
        const key = tpKey(topic.name, slot.partition);
        const state = this.owned.get(key);
        const from = asked.get(key);
        // Drop answers for partitions revoked or sought while the fetch was out.
        if (!state || from === undefined || state.position !== from) continue;
        if (slot.error && slot.error.reason !== ErrorReason.ERROR_REASON_UNSPECIFIED) {
          if (slot.error.reason === ErrorReason.OFFSET_OUT_OF_RANGE) outOfRange.push(state);
          continue;
        }
        const records = slot.batches
          .flatMap(decodeRecordBatch)
          .filter((record) => record.offset >= from);
        if (records.length > 0) out.push({ state, records, highWatermark: slot.highWatermark });
        else {
          // A compacted topic's batch may have lost its last records (or all):
          // nothing to process, but its offsets are behind us.
          const end = Math.max(from, ...slot.batches.map((b) => b.baseOffset + b.recordCount));
          if (end > from) state.position = end;
        }
      }
    }
    await this.positions.reset(outOfRange);
    return out;
  }

  /** Nothing to read: wait up to maxWaitMs, or until interrupted. */
  private async idle(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      timer = setTimeout(resolve, this.options.maxWaitMs);
    });
    // Woken early: the wait's timer must not keep a stopping process alive.
    clearTimeout(timer);
    this.wake = undefined;
  }
}
