/** Helpers for integration tests against the real local services (see test/global-setup.ts). */
export { uniqueName } from './names.js';
export { waitFor, type WaitForOptions } from './wait.js';
export { servicesEnv, clusterEnv } from './services.js';
export {
  kcatProduce,
  kcatConsume,
  type KcatMessage,
  type KcatConsumedMessage,
  type KcatProduceOptions,
  type KcatConsumeOptions,
} from './kcat.js';
export { committedTotal } from './kafka-offsets.js';
export { clickhouseQuery, createDatabase, dropDatabase, type ClickhouseQueryOptions } from './clickhouse.js';
export {
  addPrometheusTarget,
  removePrometheusTarget,
  prometheusQuery,
  type PromSample,
} from './prometheus.js';
export { rng, normal } from './random.js';
export { cleanupsAfterEach } from './cleanups.js';
export {
  ENGINES,
  daemonClickhouse,
  type DaemonClickhouse,
  dropStoreDatabase,
  embeddedTestPath,
  migratedDatabase,
  openTestStore,
  optimizeFinal,
  type TestBackend,
} from './database.js';
export { startDaemonWithTrial, processGone, type DaemonWithTrial } from './orphan-trials.js';
