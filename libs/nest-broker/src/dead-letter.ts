import type { Logger } from 'pino';
import type { BrokerClientProxy } from './broker.client';
import type { BrokerContext } from './broker.context';
import type { ConsumerMetrics } from './consumer-metrics';

/** Where a record came from and the offset to store with whatever it produced. */
export interface RecordPosition {
  topic: string;
  partition: number;
  /** The record's offset + 1: where this partition resumes after it. */
  nextOffset: number;
}

export interface DeadLetterOptions<Event> {
  deadLetters: BrokerClientProxy;
  deadLetterTopic: string;
  groupId: string;
  /** Decodes the record's value; a throw means the record is undecodable. */
  decode(value: Buffer): Event;
  /** Why the event cannot be handled; undefined when it can. */
  reject(event: Event): string | undefined;
  /** Handles a good event: writes its rows and `position.nextOffset` in one transaction. */
  apply(
    event: Event,
    position: RecordPosition,
  ): Promise<void | { written: number; skipped: number }>;
  /** Stores only the offset, so a dead-lettered record is not read again. */
  skip(position: RecordPosition): Promise<unknown>;
  /** Counted when given: consumed, written, skipped, dead-lettered. */
  metrics?: ConsumerMetrics;
  logger?: Logger;
}

/**
 * The consumer services' handling of one record: decode and check it, then
 * either apply it, or publish it unchanged to the dead-letter topic with the
 * reason in a header (`dlq-reason`, `dlq-source`, `dlq-group`) and move on.
 */
export async function handleOrDeadLetter<Event>(
  value: Buffer,
  context: BrokerContext,
  options: DeadLetterOptions<Event>,
): Promise<{ deadLettered: string | undefined }> {
  const position: RecordPosition = {
    topic: context.getTopic(),
    partition: context.getPartition(),
    nextOffset: context.getOffset() + 1,
  };
  let event: Event | undefined;
  let reason: string | undefined;
  try {
    event = options.decode(value);
    reason = options.reject(event);
  } catch (error) {
    reason = `undecodable: ${(error as Error).message}`;
  }
  if (event === undefined || reason !== undefined) {
    const why = reason ?? 'undecodable';
    await options.deadLetters.sendRecords(options.deadLetterTopic, [
      {
        key: context.getKey(),
        value,
        headers: {
          'dlq-reason': why,
          'dlq-source': `${position.topic}/${position.partition}/${context.getOffset()}`,
          'dlq-group': options.groupId,
        },
      },
    ]);
    await options.skip(position);
    options.metrics?.consumed.inc();
    options.metrics?.deadLettered.inc();
    options.logger?.warn(
      { ...position, offset: context.getOffset(), reason: why },
      'event sent to the dead-letter topic',
    );
    return { deadLettered: why };
  }
  const result = await options.apply(event, position);
  options.metrics?.consumed.inc();
  if (result) {
    options.metrics?.written.inc(result.written);
    options.metrics?.skipped.inc(result.skipped);
  }
  return { deadLettered: undefined };
}
