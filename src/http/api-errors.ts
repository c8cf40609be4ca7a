/**
 * The HTTP API's error catalogue: every error response is `{"error": {code, message, details?}}`
 * with a stable code and status from this table, and a message that names the field and the fix.
 */
export const API_ERRORS = {
  unauthorized: {
    status: 401,
    message: 'missing or wrong bearer token: send "Authorization: Bearer <DRIFTGUARD_API_TOKEN>"',
  },
  token_not_configured: {
    status: 403,
    message:
      'this request changes state and the server has no API token configured: set DRIFTGUARD_API_TOKEN (or http.apiToken) and restart',
  },
  invalid_body: { status: 400, message: 'the request body is not valid' },
  no_valid_events: {
    status: 400,
    message: 'none of the submitted events is valid; see "rejected" for each reason',
  },
  payload_too_large: { status: 413, message: 'request body too large: split it or raise http.maxBodyBytes' },
  too_busy: {
    status: 429,
    message:
      'the server holds as many request bodies as it may (http.maxBodyBytesInFlight); retry after Retry-After seconds',
  },
  unsupported_encoding: {
    status: 415,
    message: 'unsupported Content-Encoding: send the body as is (identity), gzip or deflate',
  },
  invalid_query: { status: 400, message: 'a query or path parameter is not valid' },
  model_not_found: { status: 404, message: 'no such model, or it has not been evaluated yet' },
  study_not_found: { status: 404, message: 'no such retune study: list them with GET /v1/studies' },
  version_not_found: {
    status: 404,
    message: 'no such model version: list them with GET /v1/models/<model>/versions',
  },
  retune_conflict: {
    status: 409,
    message: 'the request contradicts the current aliases (already champion, or nothing to roll back to)',
  },
  retune_refused: {
    status: 429,
    message: 'retune refused by policy (cooldown, concurrent studies, or retune disabled); see the message',
  },
  not_found: { status: 404, message: 'no such route: see /openapi.json' },
  store_unavailable: { status: 503, message: 'ClickHouse is unavailable; retry later' },
  store_failed: { status: 500, message: 'ClickHouse failed the request; the daemon log has the details' },
  internal: { status: 500, message: 'internal error; see the daemon log' },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message?: string,
    readonly details?: unknown,
  ) {
    super(message ?? API_ERRORS[code].message);
    this.name = 'ApiError';
    this.status = API_ERRORS[code].status;
  }

  toJSON(): { error: { code: string; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}
