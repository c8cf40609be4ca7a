/**
 * Errors raised by the HPO engine. The engine is pure, so nothing here is ever retriable:
 * repeating the same call with the same input gives the same answer. The daemon maps these
 * onto its own taxonomy (`CONFIG_INVALID` for options, `INTERNAL` for state misuse) by `code`,
 * never by message text.
 */
export type HpoErrorCode =
  /** A study, space, sampler or pruner definition is invalid; the message names the value and the fix. */
  | 'HPO_OPTIONS_INVALID'
  /** A call does not fit the study's state (e.g. `tell` on a trial that is not running). */
  | 'HPO_STATE_INVALID'
  /** A stored snapshot cannot be restored (unknown format, version, or malformed trials). */
  | 'HPO_SNAPSHOT_INVALID';

export class HpoError extends Error {
  readonly code: HpoErrorCode;
  readonly retriable = false;
  readonly details: Record<string, unknown>;

  constructor(code: HpoErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'HpoError';
    this.code = code;
    this.details = details;
  }
}

export function invalidOptions(message: string, details: Record<string, unknown> = {}): HpoError {
  return new HpoError('HPO_OPTIONS_INVALID', message, details);
}
