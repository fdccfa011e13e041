import type { WatchMembershipResponse } from '@hospital/proto';
import type { BrokerError } from '../../errors/broker-error';
import type { GroupRecord } from '../records/group-records';
import type { HeldResponse } from '../runtime/held-response';
import type { HandlerContext } from './handler-context';
import type { ShardView } from './group-shard';

/** What the caller of a handler gets: an answer now, an error, or an answer held for later. */
export type Answer<R> = { value: R } | { error: BrokerError } | { held: HeldResponse<R> };

/** A prompt notice for members watching their group (the gRPC WatchMembership stream). */
export type MembershipNotice =
  | { kind: 'group'; groupId: string; event: WatchMembershipResponse }
  /** `final`: the member is gone, its watch ends with this notice. */
  | {
      kind: 'member';
      groupId: string;
      memberId: string;
      event: WatchMembershipResponse;
      final: boolean;
    }
  | { kind: 'forget-group'; groupId: string };

/** A handler over the state as it is when the step runs. */
export type Step = (shard: ShardView, context: HandlerContext) => CoordinatorResult<unknown>;

/**
 * A handler's whole effect, as in Kafka's CoordinatorResult: the records to
 * append and replay, and the response. Handlers never mutate and never
 * await; the runtime does the rest, in this order:
 * 1. durable records are appended to __consumer_offsets and awaited;
 * 2. every record is replayed (the only way state changes);
 * 3. notices go out and the response is given;
 * 4. `then` runs over the new state, as the next step.
 * If the write fails nothing is replayed, the response fails, and
 * `onWriteFailed` runs instead of `then`.
 */
export interface CoordinatorResult<R> {
  readonly records: readonly GroupRecord[];
  readonly response?: Answer<R>;
  readonly notices?: readonly MembershipNotice[];
  readonly then?: Step;
  readonly onWriteFailed?: (error: BrokerError) => Step;
}

export const NO_CHANGE: CoordinatorResult<never> = { records: [] };

/** `result`, then `next` after whatever `result` already runs next. */
export function andThen<R>(result: CoordinatorResult<R>, next: Step): CoordinatorResult<R> {
  const first = result.then;
  return {
    ...result,
    then: first ? (shard, context) => andThen(first(shard, context), next) : next,
  };
}

/** One result made of several: records and notices in order, the first response, steps in order. */
export function combine<R>(...results: CoordinatorResult<R>[]): CoordinatorResult<R> {
  const steps = results.flatMap((result) => (result.then ? [result.then] : []));
  const response = results.find((result) => result.response !== undefined)?.response;
  return {
    records: results.flatMap((result) => result.records),
    notices: results.flatMap((result) => result.notices ?? []),
    ...(response ? { response } : {}),
    ...(steps.length > 0 ? { then: sequence(steps) } : {}),
  };
}

function sequence(steps: Step[]): Step {
  const [first, ...rest] = steps;
  return rest.length === 0
    ? first
    : (shard, context) => andThen(first(shard, context), sequence(rest));
}
