import { DriftguardError } from '../../kernel/errors.js';

/**
 * ClickHouse error codes the store adapters map onto the error taxonomy by number, never by
 * message text. The server adapter reads the code from the exception text (`Code: NNN`, the only
 * place 18.16 puts it over HTTP); chDB errors carry it as `clickhouseCode`.
 */

/**
 * The input data of an insert was refused: a value the column type cannot hold or parse. Nothing
 * about the server or the query is wrong, so the rows without that value can still be stored.
 */
const DATA_REFUSED = new Map([
  [6, 'CANNOT_PARSE_TEXT'],
  [25, 'CANNOT_PARSE_ESCAPE_SEQUENCE'], // a lone surrogate
  [26, 'CANNOT_PARSE_QUOTED_STRING'],
  [27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'],
  [38, 'CANNOT_PARSE_DATE'],
  [41, 'CANNOT_PARSE_DATETIME'],
  [53, 'TYPE_MISMATCH'],
  [69, 'ARGUMENT_OUT_OF_BOUND'],
  [70, 'CANNOT_CONVERT_TYPE'],
  [72, 'CANNOT_PARSE_NUMBER'],
  [117, 'INCORRECT_DATA'],
  [128, 'TOO_LARGE_ARRAY_SIZE'],
  [131, 'TOO_LARGE_STRING_SIZE'],
  [190, 'SIZES_OF_ARRAYS_DOESNT_MATCH'],
  [321, 'VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE'],
  [349, 'CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN'],
]);

/** The server is overloaded or busy for now; the same request can succeed later. */
const TRANSIENT = new Map([
  [159, 'TIMEOUT_EXCEEDED'],
  [202, 'TOO_MANY_SIMULTANEOUS_QUERIES'],
  [209, 'SOCKET_TIMEOUT'],
  [210, 'NETWORK_ERROR'],
  [241, 'MEMORY_LIMIT_EXCEEDED'],
  [252, 'TOO_MANY_PARTS'],
]);

export type ClickHouseFailure = 'data_refused' | 'transient' | 'other';

export function classifyClickHouseCode(code: number | undefined): ClickHouseFailure {
  if (code === undefined) return 'other';
  if (DATA_REFUSED.has(code)) return 'data_refused';
  return TRANSIENT.has(code) ? 'transient' : 'other';
}

/**
 * A sentence about a ClickHouse failure that names the operation and the code but carries none of
 * the server's text (which can quote data and schema): for HTTP answers and /readyz.
 */
export function clickHousePublicMessage(who: string, operation: string, code: number | undefined): string {
  const name = code === undefined ? undefined : (DATA_REFUSED.get(code) ?? TRANSIENT.get(code));
  const which =
    code === undefined ? '' : ` (ClickHouse error ${code}${name === undefined ? '' : ` ${name}`})`;
  return `${who} failed ${operation}${which}; the daemon log has the details`;
}

/** What the error's own message says after each kind of failure (the server's text, trimmed). */
export interface FailureTexts {
  readonly refused: string;
  readonly busy: string;
  readonly rejected: string;
}

/**
 * A ClickHouse failure by its code, for both adapters (`who` names the engine): refused data is
 * STORE_DATA_REJECTED, a busy server STORE_UNAVAILABLE (retriable), anything else
 * STORE_QUERY_FAILED; the public message carries none of the server's text.
 */
export function clickHouseFailure(
  who: string,
  operation: string,
  clickhouseCode: number | undefined,
  texts: FailureTexts,
  cause: unknown,
): DriftguardError {
  const details = clickhouseCode === undefined ? {} : { clickhouseCode };
  const publicMessage = clickHousePublicMessage(who, operation, clickhouseCode);
  switch (classifyClickHouseCode(clickhouseCode)) {
    case 'data_refused':
      return new DriftguardError(
        'STORE_DATA_REJECTED',
        `${who} refused the data of ${operation}: ${texts.refused}`,
        { retriable: false, cause, details, publicMessage },
      );
    case 'transient':
      return new DriftguardError('STORE_UNAVAILABLE', `${who} is busy during ${operation}: ${texts.busy}`, {
        retriable: true,
        cause,
        details,
        publicMessage,
      });
    case 'other':
      return new DriftguardError('STORE_QUERY_FAILED', `${who} rejected ${operation}: ${texts.rejected}`, {
        retriable: false,
        cause,
        details,
        publicMessage,
      });
  }
}

/** The code in a ClickHouse exception text (`Code: 25, e.displayText() = …` or `Code: 25. DB::Exception…`). */
export function clickHouseCodeOf(text: string): number | undefined {
  const match = /\bCode: (\d{1,4})\b/.exec(text);
  return match === null ? undefined : Number(match[1]);
}

/**
 * The exception text without the server's framing (`e.displayText() = DB::Exception:`, `e.what()`,
 * stack traces): the reason a dead letter or a log can carry.
 */
export function clickHouseReason(text: string): string {
  const first = text.split('\n')[0] ?? '';
  return first
    .replace(/^Code: \d+[.,]\s*(e\.displayText\(\) = )?/, '')
    .replace(/^DB::Exception:\s*/, '')
    .replace(/,? e\.what\(\) = DB::Exception$/, '')
    .trim()
    .slice(0, 500);
}
