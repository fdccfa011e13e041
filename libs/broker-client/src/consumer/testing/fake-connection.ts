import { EventEmitter } from 'node:events';
import type {
  BrokerConnection,
  RequestOf,
  ResponseOf,
  UnaryMethod,
} from '../../connection/broker-connection';

type Handlers = {
  [K in UnaryMethod]?: (
    request: RequestOf<K>,
    options: { signal?: AbortSignal },
  ) => ResponseOf<K> | Promise<ResponseOf<K>>;
};

/**
 * A BrokerConnection answered by the test: each method a function of the
 * request. Records every call; a method without an answer fails the test.
 */
export function fakeConnection(handlers: Handlers) {
  const calls: { method: UnaryMethod; request: unknown }[] = [];
  const call = async (
    method: UnaryMethod,
    request: unknown,
    options: { signal?: AbortSignal } = {},
  ) => {
    calls.push({ method, request });
    const handler = handlers[method] as
      ((request: unknown, options: { signal?: AbortSignal }) => unknown) | undefined;
    if (!handler) throw new Error(`fake connection: no answer for ${method}`);
    return handler(request, options);
  };
  const connection = {
    clientId: 'fake',
    call,
    // The pipelined calls answer as their unary forms do.
    produce: (request: unknown, options?: { signal?: AbortSignal }) =>
      call('produce', request, options),
    fetch: (request: unknown, options?: { signal?: AbortSignal }) =>
      call('fetch', request, options),
    watchMembership: () => Object.assign(new EventEmitter(), { cancel: () => {} }),
  };
  const called = (method: UnaryMethod) =>
    calls.filter((call) => call.method === method).map((call) => call.request);
  return { connection: connection as unknown as BrokerConnection, calls, called, handlers };
}

/** A promise the test settles. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => ((resolve = yes), (reject = no)));
  return { promise, resolve, reject };
}
