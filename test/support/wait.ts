export interface WaitForOptions {
  /** @default 10_000 */
  timeoutMs?: number;
  /** @default 100 */
  intervalMs?: number;
  /** Says what was awaited, in the timeout error. */
  description?: string;
  /** Says whether a throw is final (the awaited thing can no longer happen): the wait then ends with it. */
  isFinal?: (error: unknown) => boolean;
}

/**
 * Polls `predicate` until it returns a truthy value, and resolves with that value. A throw
 * counts as "not yet"; the last one is the timeout error's cause.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value !== undefined && value !== null && value !== false && value !== 0 && value !== '')
        return value;
      lastError = undefined;
    } catch (error) {
      if (options.isFinal?.(error) === true) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `: last error: ${lastError.message}` : '';
      throw new Error(
        `waitFor timed out after ${timeoutMs} ms${options.description ? ` waiting for ${options.description}` : ''}${why}`,
        {
          cause: lastError,
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
