/**
 * Orders strings as Java's `String.compareTo` does: by UTF-16 code units,
 * whatever the process locale. Kafka's assignors sort member ids and topics
 * this way, so a group gets the same assignment from our leader as from a
 * Java one ("B" before "a"; `localeCompare` would put "a" first, and differ
 * between locales).
 */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
