/** Model names double as label values and path segments, so they are kept to a safe alphabet. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;
/** Ids are opaque but bounded so that a runaway producer cannot bloat the store's key. */
export const MAX_ID_LENGTH = 256;
export const MAX_FEATURE_NAME_LENGTH = 256;
export const MAX_FEATURES = 2_000;
export const MAX_CATEGORY_LENGTH = 1_024;
