/**
 * Errors of the trainers. The orchestrator decides by `code` and `retriable`, never by text:
 * a crashed trial (after the trainer's own retries) fails the trial; a config error fails boot.
 */
export type TrainerErrorCode =
  /** Trainer config or trial params are invalid; the message names the value and the fix. */
  | 'TRAINER_CONFIG_INVALID'
  /** The trial program exited non-zero or died by a signal it was not sent (after retries). */
  | 'TRIAL_CRASHED'
  /** The trial ran but reported no objective value. */
  | 'TRIAL_NO_OBJECTIVE'
  /** The trial exceeded its time limit and was killed. */
  | 'TRIAL_TIMEOUT'
  /** The request's signal aborted the trial (daemon stopping, study cancelled). */
  | 'TRIAL_CANCELLED'
  /** A dataset or artifact on disk is missing or malformed. */
  | 'ARTIFACT_INVALID'
  /** A predict run failed. */
  | 'PREDICT_FAILED';

export class TrainerError extends Error {
  readonly code: TrainerErrorCode;
  readonly retriable: boolean;
  readonly details: Record<string, unknown>;

  constructor(
    code: TrainerErrorCode,
    message: string,
    options: { retriable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TrainerError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.details = options.details ?? {};
  }
}
