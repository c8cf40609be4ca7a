import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { createLogger } from '../kernel/logger.js';
import { servicesUp } from '../src/dev-services/index.js';

/**
 * Global setup of the `integration` project: starts (or reuses) the local services and the local
 * ClickHouse cluster (2 shards × 2 replicas, ZooKeeper), installing them when missing and running
 * as root, and hands their URLs to the test files through `provide` (read them with
 * `servicesEnv()` and `clusterEnv()` from test/support). The services' values are set in
 * process.env for code that reads its config from the environment. Everything is left running:
 * the next run reuses it (`npx driftguard dev-services down` stops it).
 */
export default async function setup(project: TestProject): Promise<void> {
  const info = await servicesUp({ logger: createLogger('warn'), cluster: true });
  if (info.cluster === undefined) throw new Error('servicesUp did not start the cluster');
  // Embedded-store directories of earlier runs' test processes (see test/support/database.ts).
  rmSync('.driftguard/test-embedded', { recursive: true, force: true });
  const {
    kafkaBrokers,
    clickhouseUrl,
    clickhouseTcpPort,
    prometheusUrl,
    prometheusTargetsDir,
    prometheusRulesDir,
  } = info;
  project.provide('driftguardServices', {
    kafkaBrokers,
    clickhouseUrl,
    clickhouseTcpPort,
    prometheusUrl,
    prometheusTargetsDir,
    prometheusRulesDir,
  });
  const { cluster, nodeUrls, zookeeper } = info.cluster;
  project.provide('driftguardCluster', {
    cluster,
    clickhouseUrl: info.cluster.clickhouseUrl,
    nodeUrls,
    zookeeper,
  });
  Object.assign(process.env, info.env);
}
