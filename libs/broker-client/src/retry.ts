import { toClientError } from './errors';

export interface RetryOptions {
  /** Attempts after the first one. */
  retries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  retries: 5,
  initialBackoffMs: 100,
  maxBackoffMs: 5_000,
};

/** Exponential backoff with full jitter, bounded. */
export function backoffMs(attempt: number, options: RetryOptions, random = Math.random): number {
  const ceiling = Math.min(options.maxBackoffMs, options.initialBackoffMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export const delay = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** Runs `work`, retrying retriable failures with backoff; the last failure is thrown. */
export async function withRetry<T>(
  work: () => Promise<T>,
  options: RetryOptions = DEFAULT_RETRY,
  onRetry?: (error: Error, attempt: number) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const failure = toClientError(error);
      if (!failure.retriable || attempt >= options.retries) throw failure;
      onRetry?.(failure, attempt + 1);
      await delay(backoffMs(attempt, options));
    }
  }
}
