/**
 * Errors of the retune subsystem that callers act on by `code` (the HTTP routes map them onto
 * the API catalogue). None is retriable: the same request fails the same way until something changes.
 */
export type RetuneErrorCode =
  /** No such model version, study or alias target. */
  | 'RETUNE_NOT_FOUND'
  /** The request contradicts the current state (already champion, nothing to roll back to, study running). */
  | 'RETUNE_CONFLICT'
  /** A trigger refused by policy (cooldown, max concurrent studies, disabled). */
  | 'RETUNE_REFUSED'
  /** Input that cannot be acted on (bad model name, bad config). */
  | 'RETUNE_INVALID';

export class RetuneError extends Error {
  readonly retriable = false;
  constructor(
    readonly code: RetuneErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'RetuneError';
  }
}
