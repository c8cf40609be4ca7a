import type { Store } from '../kernel/store.js';

/** Seconds and calls spent in one store operation. */
export interface OperationTime {
  seconds: number;
  calls: number;
}

/**
 * `store` with every call timed into `spent` by its operation name (inserts as `insert <table>`),
 * for the benches that show where their time goes (bench:estimation's `by_query_s`,
 * bench:monitor's `--profile`). Calls that run at once are timed each, so their times overlap.
 */
export function timedStore(store: Store, spent: Map<string, OperationTime>): Store {
  const time = async <T>(operation: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      const entry = spent.get(operation) ?? { seconds: 0, calls: 0 };
      entry.seconds += (performance.now() - started) / 1000;
      entry.calls += 1;
      spent.set(operation, entry);
    }
  };
  return {
    engine: store.engine,
    database: store.database,
    cluster: store.cluster,
    location: store.location,
    select: (operation, sql) => time(operation, () => store.select(operation, sql)),
    selectText: (operation, sql) => time(operation, () => store.selectText(operation, sql)),
    command: (operation, sql, options) => time(operation, () => store.command(operation, sql, options)),
    insert: (table, pieces, options) => time(`insert ${table}`, () => store.insert(table, pieces, options)),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
