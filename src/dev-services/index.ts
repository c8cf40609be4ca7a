/**
 * Local services for development and integration tests: ClickHouse, a Kafka-protocol broker
 * (librdkafka's mock cluster hosted by kcat) and Prometheus, on free loopback ports, detached,
 * recorded under `.driftguard/services/`. See `driftguard dev-services --help`.
 */
export {
  servicesUp,
  brokerServicesUp,
  type BrokerServicesInfo,
  servicesDown,
  servicesStatus,
  readServicesEnv,
  readServicesEndpoints,
  type ServicesOptions,
  type ServicesUpOptions,
  type ServicesInfo,
  type ServiceInfo,
  type ServiceStatus,
  type ServiceState,
} from './services.js';
export { envNames, endpointsFromEnv, endpointsToEnv, type ServicesEndpoints } from './endpoints.js';
export { formatEnvFile, parseEnvFile } from './env-file.js';
export { servicesLayout, serviceNames, type ServiceName, type ServicesLayout } from './layout.js';
export { findBinary } from './apt-install.js';
export {
  prometheusJobName,
  writePrometheusTargets,
  removePrometheusTargets,
  type PrometheusTargetGroup,
} from './prometheus.js';
export type { ServiceRecord } from './service.js';
