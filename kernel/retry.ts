import { isRetriable } from './errors.js';

/** Jittered exponential backoff. The only retry helper in the daemon. */
export interface RetryOptions {
  /** First delay. @default 100 */
  initialDelayMs: number;
  /** Cap on any single delay. @default 10_000 */
  maxDelayMs: number;
  /** Growth per attempt. @default 2 */
  factor: number;
  /** Share of each delay that is randomised (0 = none, 1 = full jitter). @default 0.2 */
  jitter: number;
  /** Attempts including the first; `Infinity` retries until `signal` aborts. @default 5 */
  maxAttempts: number;
  /** Which errors to retry. @default errors whose `retriable` is true */
  shouldRetry: (error: unknown) => boolean;
  /** Called before each wait, for logging and metrics. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
  /** Injected for tests. @default Math.random */
  random: () => number;
}

export const defaultRetryOptions: RetryOptions = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  factor: 2,
  jitter: 0.2,
  maxAttempts: 5,
  shouldRetry: isRetriable,
  random: Math.random,
});

/** Delay before retry number `attempt` (1-based), jittered and capped. */
export function backoffDelayMs(
  attempt: number,
  options: Pick<RetryOptions, 'initialDelayMs' | 'maxDelayMs' | 'factor' | 'jitter' | 'random'>,
): number {
  const base = Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** (attempt - 1));
  const spread = base * options.jitter;
  return Math.max(0, Math.round(base - spread + options.random() * 2 * spread));
}

export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  overrides: Partial<RetryOptions> = {},
): Promise<T> {
  const options: RetryOptions = { ...defaultRetryOptions, ...overrides };
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await operation(attempt);
    } catch (error) {
      if (attempt >= options.maxAttempts || !options.shouldRetry(error)) throw error;
      const delayMs = backoffDelayMs(attempt, options);
      options.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs, options.signal);
    }
  }
}

/** A cancellable sleep: rejects with the abort reason when `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
