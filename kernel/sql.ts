import { DriftguardError } from './errors.js';

/**
 * The one place where values and identifiers become SQL text. ClickHouse 18.16 has no query
 * parameters, so values are escaped here and identifiers are validated against a strict pattern
 * (never escaped: a name that needs escaping is refused).
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A database, table or column name, validated and back-quoted. */
export function sqlIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new DriftguardError(
      'IDENTIFIER_INVALID',
      `${JSON.stringify(name)} is not a safe SQL identifier: use letters, digits and "_", starting with a letter or "_" (at most 64)`,
      { retriable: false },
    );
  }
  return `\`${name}\``;
}

/** A string literal: backslash and quote escaped, control bytes written as escapes. */
export function sqlString(value: string): string {
  let out = "'";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    const code = value.charCodeAt(i);
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (code === 0) out += '\\0';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return `${out}'`;
}

/** A finite number literal; NaN and infinities are refused rather than silently becoming text. */
export function sqlNumber(value: number): string {
  if (!Number.isFinite(value)) {
    throw new DriftguardError('STORE_QUERY_FAILED', `cannot bind non-finite number ${value} into SQL`, {
      retriable: false,
    });
  }
  return Number.isInteger(value) ? value.toFixed(0) : value.toPrecision(17);
}

/** Epoch milliseconds as a ClickHouse DateTime expression (seconds precision). */
export function sqlDateTime(epochMs: number): string {
  return `toDateTime(${sqlNumber(Math.floor(epochMs / 1000))})`;
}

export function sqlStringList(values: readonly string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}
