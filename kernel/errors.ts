/**
 * One error taxonomy for the whole daemon. Callers decide what to do from `retriable`
 * (and `code`), never from message text.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'EVENT_INVALID'
  | 'STORE_UNAVAILABLE'
  | 'STORE_LOCKED'
  | 'STORE_QUERY_FAILED'
  /** The store refused an insert's data (a value its column cannot hold): other rows can be stored. */
  | 'STORE_DATA_REJECTED'
  | 'BROKER_UNAVAILABLE'
  | 'IDENTIFIER_INVALID'
  | 'SERVICE_START_FAILED'
  | 'SHUTDOWN_TIMEOUT'
  | 'INTERNAL';

export interface DriftguardErrorOptions {
  /** Whether repeating the same operation later can succeed. */
  retriable: boolean;
  cause?: unknown;
  /** Structured context that is safe to log (never secrets). */
  details?: Record<string, unknown>;
  /**
   * What an answer to a client (an HTTP error, /readyz) may say, when `message` carries text that
   * belongs in the log only (a database's exception text). @default message
   */
  publicMessage?: string;
}

export class DriftguardError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly details: Record<string, unknown>;
  readonly publicMessage: string;

  constructor(code: ErrorCode, message: string, options: DriftguardErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DriftguardError';
    this.code = code;
    this.retriable = options.retriable;
    this.details = options.details ?? {};
    this.publicMessage = options.publicMessage ?? message;
  }
}

/** Whether an unknown thrown value is worth retrying. Unknown errors are treated as fatal. */
export function isRetriable(error: unknown): boolean {
  return error instanceof DriftguardError && error.retriable;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * What a client may be told about `error`: a DriftguardError's public message, else a generic
 * sentence (an unknown error's text may be anyone's, a database's included; the log has it).
 */
export function publicErrorMessage(error: unknown): string {
  return error instanceof DriftguardError ? error.publicMessage : 'an internal error; see the daemon log';
}
