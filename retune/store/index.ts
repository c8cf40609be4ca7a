export { RETUNE_MIGRATIONS } from './migrations.js';
export { ClickHouseRetuneStore, RevisionClock } from './clickhouse-retune-store.js';
export type * from './types.js';
export { MemoryRetuneStorage } from './memory-study-storage.js';
