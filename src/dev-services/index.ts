/**
 * Local services for development and integration tests: ClickHouse, a Kafka-protocol broker
 * (librdkafka's mock cluster hosted by kcat) and Prometheus, and on request a ClickHouse cluster
 * (ZooKeeper + 2 shards × 2 replicas), on free loopback ports, detached, recorded under
 * `.driftguard/services/`. See `driftguard dev-services --help`.
 */
export {
  servicesUp,
  brokerServicesUp,
  type BrokerServicesInfo,
  servicesDown,
  servicesStatus,
  readServicesEnv,
  readServicesEndpoints,
  readClusterEndpoints,
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
export {
  devCluster,
  clusterEnvNames,
  clusterEndpointsFromEnv,
  clusterEndpointsToEnv,
  clusterNodes,
  writeClusterNodeFiles,
  type ClusterEndpoints,
  type ClusterInfo,
  type ClusterNodeSpec,
} from './cluster.js';
export { startZookeeper, zookeeperAnswers } from './zookeeper.js';
export { findZookeeper } from './apt-install.js';
