/**
 * What an acks=all acknowledgement promises (docs/architecture.md, "Storage"):
 * - `fsync`: the records are on disk. Adaptive group commit: an fsync starts
 *   the moment acks=all data is waiting and none is in flight; whatever
 *   arrives during it rides the next, which starts as soon as it ends.
 *   Consumers see records only once they are durable (Kafka's high
 *   watermark), so nothing a consumer processed can be taken back by a
 *   power loss.
 * - `os`: the records are in the OS page cache: a broker crash loses
 *   nothing acknowledged, a power loss loses up to the background flush
 *   interval (Redis's appendfsync everysec).
 */
export type DurabilityLevel = 'fsync' | 'os';

export const DURABILITY_LEVELS: readonly DurabilityLevel[] = ['fsync', 'os'];

/** The levels before adaptive group commit, and what each became. */
export const RENAMED_DURABILITY_LEVELS: { readonly [old: string]: string } = {
  append: 'fsync',
  interval: 'fsync (with BROKER_FSYNC_MIN_INTERVAL_MS=20 for the old fixed 20 ms tick)',
};
