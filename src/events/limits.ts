/** Model names double as label values and path segments: one rule, kernel/names.ts. */
export { MODEL_NAME_PATTERN, MODEL_NAME_RULE } from '../../kernel/names.js';
/** Ids are opaque but bounded so that a runaway producer cannot bloat the store's key. */
export const MAX_ID_LENGTH = 256;
export const MAX_FEATURE_NAME_LENGTH = 256;
export const MAX_FEATURES = 2_000;
export const MAX_CATEGORY_LENGTH = 1_024;
/**
 * Event times the store's `ts` column holds on every engine: 1970-01-01T00:00:00Z to
 * 2106-02-06T23:59:59.999Z. DateTime is unsigned 32-bit seconds (to 2106-02-07T06:28:15Z): later
 * times would wrap (18.16: year 2500 is stored as 2091) or be clamped (current ClickHouse), so
 * `ts` and `ts_ms` would disagree; and ClickHouse 18.16's date functions (the day partition key,
 * toStartOfDay) already fail within 2106-02-07, putting such a row in partition 19700101.
 */
export const MAX_TIMESTAMP_MS = 4_294_943_999_999;
/**
 * Deepest nesting of arrays and objects in an event (the envelope included). Deeper JSON would
 * overflow the stack of anything recursive that meets it (JSON.stringify of `extra`, a tensor walk).
 */
export const MAX_JSON_DEPTH = 64;
