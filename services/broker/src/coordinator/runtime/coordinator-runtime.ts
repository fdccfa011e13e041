import { ErrorReason } from '@hospital/proto';
import type { Logger } from 'pino';
import { BrokerError } from '../../errors/broker-error';
import { isDurable } from '../records/group-records';
import { decodeRecord, encodeRecord, type EncodedRecord } from '../records/record-codec';
import type { Answer, CoordinatorResult, Step } from '../shard/coordinator-result';
import { GroupShard } from '../shard/group-shard';
import type {
  CoordinatorConfig,
  HandlerContext,
  TopicPartitionsView,
} from '../shard/handler-context';
import { onTimerExpired } from '../shard/timer-handlers';
import { timerKey, type TimerExpiry } from '../shard/timer-expiry';
import { MembershipNotices } from './membership-notices';
import type { CoordinatorClock } from './timer';

/** Where the runtime writes records, and reads them all back at start-up. */
export interface CoordinatorLogWriter {
  /** Resolves once the records are durable; records of one group keep their order. */
  append(groupId: string, records: EncodedRecord[]): Promise<void>;
  readAll(): Iterable<EncodedRecord>;
}

export interface RuntimeOptions {
  log: CoordinatorLogWriter;
  clock: CoordinatorClock;
  config: CoordinatorConfig;
  topics: TopicPartitionsView;
  /** New unique ids for members (UUIDs in the broker, a counter in tests). */
  newId: () => string;
  logger: Logger;
}

/**
 * Kafka's CoordinatorRuntime, for one shard: runs a handler, appends the
 * durable records it returns to __consumer_offsets, replays them once they
 * are durable, then gives the answers. A write that fails replays nothing
 * and fails the answers. Timers fire through here too, so a handler that
 * throws is logged and the broker carries on. The picture is in
 * docs/architecture.md, "The coordinator".
 */
export class CoordinatorRuntime {
  readonly shard: GroupShard;
  readonly notices = new MembershipNotices();

  constructor(private readonly options: RuntimeOptions) {
    const { clock } = options;
    this.shard = new GroupShard(
      {
        schedule: (expiry, delayMs) =>
          clock.schedule(timerKey(expiry), delayMs, () => this.fire(expiry)),
        cancel: (expiry) => clock.cancel(timerKey(expiry)),
      },
      () => clock.now(),
      options.logger,
    );
  }

  /** Runs a handler; its answer comes once its records are durable and replayed. */
  write<R>(step: Step): Promise<R> {
    try {
      return this.apply(step(this.shard, this.context()) as CoordinatorResult<R>);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Runs a handler whose own records are all in memory (Heartbeat,
   * LeaveGroup), answering at once; the steps after it may still write.
   */
  writeNow<R>(step: Step): R {
    const result = step(this.shard, this.context()) as CoordinatorResult<R>;
    if (result.records.some(isDurable))
      throw new Error('writeNow: this handler writes records; use write');
    this.commit(result);
    return answerNow(result.response);
  }

  /** Rebuilds the shard from __consumer_offsets with the same replay that serves requests. */
  load(): { groups: number; offsets: number; records: number } {
    let records = 0;
    for (const encoded of this.options.log.readAll()) {
      records++;
      const record = decodeRecord(encoded.key, encoded.value);
      if (record) this.shard.replay(record);
    }
    const offsets = this.shard.offsets
      .groupIds()
      .reduce((sum, groupId) => sum + this.shard.offsets.all(groupId).length, 0);
    return { groups: this.shard.size, offsets, records };
  }

  private context(): HandlerContext {
    const { clock, config, topics, newId } = this.options;
    return { nowMs: clock.now(), config, topics, newId };
  }

  private fire(expiry: TimerExpiry): void {
    this.follow(onTimerExpired(expiry), { timer: expiry });
  }

  /** A step no caller waits for: a timer, or what follows a request. Its failure is logged. */
  private follow(step: Step, about: object = {}): void {
    try {
      this.apply(step(this.shard, this.context())).catch(() => {
        // A failed write was logged where it failed; nobody else is waiting for it.
      });
    } catch (error) {
      this.options.logger.error({ err: error, ...about }, 'coordinator step failed');
    }
  }

  private apply<R>(result: CoordinatorResult<R>): Promise<R> {
    const durable = result.records.filter(isDurable);
    if (durable.length === 0) {
      this.commit(result);
      return answerLater(result.response);
    }
    const groupId = durable[0].groupId;
    return this.options.log.append(groupId, durable.map(encodeRecord)).then(
      () => {
        this.commit(result);
        return answerLater(result.response);
      },
      (cause: unknown) => {
        const error = new BrokerError(
          ErrorReason.COORDINATOR_NOT_AVAILABLE,
          `group ${groupId}: writing to __consumer_offsets failed (${cause instanceof Error ? cause.message : String(cause)}); nothing was changed`,
          {},
          { cause },
        );
        this.options.logger.error(
          { err: cause, group: groupId, records: durable.length },
          'coordinator write failed; nothing was applied',
        );
        if (result.onWriteFailed) this.follow(result.onWriteFailed(error), { group: groupId });
        throw error;
      },
    );
  }

  /** Replays the records, delivers the notices, then runs what follows. */
  private commit(result: CoordinatorResult<unknown>): void {
    for (const record of result.records) this.shard.replay(record);
    for (const notice of result.notices ?? []) this.notices.deliver(notice);
    if (result.then) this.follow(result.then);
  }
}

function answerLater<R>(answer: Answer<R> | undefined): Promise<R> {
  if (answer === undefined) return Promise.resolve(undefined as R);
  if ('held' in answer) return answer.held.promise;
  if ('error' in answer) return Promise.reject(answer.error);
  return Promise.resolve(answer.value);
}

function answerNow<R>(answer: Answer<R> | undefined): R {
  if (answer === undefined) return undefined as R;
  if ('held' in answer) throw new Error('writeNow: a held answer cannot be given at once');
  if ('error' in answer) throw answer.error;
  return answer.value;
}
