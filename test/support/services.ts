import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import path from 'node:path';
import {
  clusterEndpointsFromEnv,
  endpointsFromEnv,
  parseEnvFile,
  servicesLayout,
  type ClusterEndpoints,
  type ServicesEndpoints,
} from '../../src/dev-services/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Provided by test/global-setup.ts for the `integration` project. */
    driftguardServices: ServicesEndpoints;
    /** The local ClickHouse cluster, provided by test/global-setup.ts. */
    driftguardCluster: ClusterEndpoints;
  }
}

/**
 * The URLs of the local services: what test/global-setup.ts provided, else the
 * `DRIFTGUARD_*` variables of the environment, else `.driftguard/services.env`.
 */
export function servicesEnv(): ServicesEndpoints {
  const provided = inject('driftguardServices') as ServicesEndpoints | undefined;
  if (provided !== undefined) return provided;
  if (process.env['DRIFTGUARD_KAFKA_BROKERS'] !== undefined) return endpointsFromEnv(process.env);
  const { envFile } = servicesLayout();
  let text: string;
  try {
    text = readFileSync(envFile, 'utf8');
  } catch (error) {
    throw new Error(
      `no local services: run the integration project (its global setup starts them) or \`npx driftguard dev-services up\``,
      {
        cause: error,
      },
    );
  }
  return endpointsFromEnv(parseEnvFile(text));
}

/**
 * The local ClickHouse cluster (2 shards × 2 replicas): what test/global-setup.ts provided, else
 * `.driftguard/cluster.env` (`npx driftguard dev-services up --cluster`).
 */
export function clusterEnv(): ClusterEndpoints {
  const provided = inject('driftguardCluster') as ClusterEndpoints | undefined;
  if (provided !== undefined) return provided;
  const envFile = path.join(servicesLayout().rootDir, '.driftguard', 'cluster.env');
  let text: string;
  try {
    text = readFileSync(envFile, 'utf8');
  } catch (error) {
    throw new Error(
      'no local cluster: run the integration project (its global setup starts it) or `npx driftguard dev-services up --cluster`',
      { cause: error },
    );
  }
  return clusterEndpointsFromEnv(parseEnvFile(text));
}
