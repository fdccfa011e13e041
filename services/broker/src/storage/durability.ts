/**
 * How durable an acknowledged append is (docs/architecture.md, "The broker"):
 * - `append`: fsync before every acks=all answer (concurrent appends share one fsync);
 * - `interval`: group commit, an fsync every flush interval answers everyone waiting;
 * - `os`: no fsync on the produce path; the OS writes back in its own time.
 */
export type DurabilityLevel = 'append' | 'interval' | 'os';

export const DURABILITY_LEVELS: readonly DurabilityLevel[] = ['append', 'interval', 'os'];
