import { isUtf8 } from 'node:buffer';
import { MAX_JSON_DEPTH } from './limits.js';

/**
 * What the store can hold, checked before anything reaches it, so that a record ClickHouse would
 * refuse (and with it the whole group insert it is part of) is rejected with a reason instead.
 *
 * The policy, for text (docs: README "Event format"):
 *  - bytes must be UTF-8: invalid sequences are refused, not replaced with U+FFFD;
 *  - no string may hold a lone UTF-16 surrogate (JSON allows `"\ud800"`; UTF-8 cannot encode it,
 *    and ClickHouse refuses the whole insert or stores bytes that are not UTF-8);
 *  - names (ids, versions, feature and class names) may not hold control characters
 *    (U+0000-U+001F, U+007F): they end up in SQL literals, logs, URLs and label values;
 *  - values (categories, labels) may hold any other text, NUL and newlines included: ClickHouse
 *    stores them byte for byte.
 * Nesting beyond MAX_JSON_DEPTH is refused while scanning, before anything recursive (JSON.stringify,
 * the decoders' tensor walks) meets it.
 */

/** Characters refused in names, or the start of a surrogate (checked exactly below). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it looks for
const NAME_SUSPECT = /[\u0000-\u001f\u007f\ud800-\udfff]/;
const VALUE_SUSPECT = /[\ud800-\udfff]/;
/** surrogateProblem's answer for a valid surrogate pair. */
const PAIR = Symbol('pair');

/** Why `text` cannot be stored as a name, or undefined. */
export function nameTextProblem(text: string): string | undefined {
  if (!NAME_SUSPECT.test(text)) return undefined;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f)
      return `holds the control character U+${hex4(code)} at position ${i}; names may not contain control characters`;
    const surrogate = surrogateProblem(text, i);
    if (surrogate === PAIR) i++;
    else if (surrogate !== undefined) return surrogate;
  }
  return undefined;
}

/** Why `text` cannot be stored as a value, or undefined. */
export function valueTextProblem(text: string): string | undefined {
  if (!VALUE_SUSPECT.test(text)) return undefined;
  for (let i = 0; i < text.length; i++) {
    const surrogate = surrogateProblem(text, i);
    if (surrogate === PAIR) i++;
    else if (surrogate !== undefined) return surrogate;
  }
  return undefined;
}

/** PAIR for a valid surrogate pair at `i`, a reason for a lone surrogate, else undefined. */
function surrogateProblem(text: string, i: number): string | typeof PAIR | undefined {
  const code = text.charCodeAt(i);
  if (code < 0xd800 || code > 0xdfff) return undefined;
  if (code <= 0xdbff) {
    const next = text.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return PAIR;
  }
  return `holds a lone UTF-16 surrogate (\\u${hex4(code).toLowerCase()}) at position ${i}, which UTF-8 cannot encode; send valid Unicode text`;
}

function hex4(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, '0');
}

/** The byte offset of the first invalid UTF-8 sequence in `bytes`, or -1 when it is all valid. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  // Slow path, for the rejection message only.
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i] as number;
    const length =
      b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > bytes.length || !isUtf8(bytes.subarray(i, i + length))) return i;
    i += length;
  }
  return 0;
}

/**
 * The deepest nesting of arrays and objects in JSON text, scanning no further than the point
 * where it exceeds `limit` (then it returns limit + 1 and the byte offset). Strings are skipped
 * with their escapes; the text need not be valid JSON (JSON.parse decides that afterwards).
 */
export function jsonDepth(text: Uint8Array | string, limit = MAX_JSON_DEPTH): { depth: number; at: number } {
  const bytes = typeof text === 'string' ? undefined : text;
  const length = text.length;
  const codeAt = (i: number): number =>
    bytes === undefined ? (text as string).charCodeAt(i) : (bytes[i] as number);
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < length; i++) {
    const c = codeAt(i);
    if (c === 0x22) {
      // A string: skip to its closing quote.
      for (i++; i < length; i++) {
        const s = codeAt(i);
        if (s === 0x5c) i++;
        else if (s === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return { depth: deepest, at: i };
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return { depth: deepest, at: -1 };
}

/** The nesting depth of a parsed value, without recursion; stops past `limit`. */
export function valueDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (depth > deepest) {
      deepest = depth;
      if (deepest > limit) return deepest;
    }
    const children = Array.isArray(node) ? node : Object.values(node as Record<string, unknown>);
    for (const child of children)
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return deepest;
}
