import { removePrometheusTargets, writePrometheusTargets } from '../../src/dev-services/index.js';
import { servicesEnv } from './services.js';

/**
 * Makes the local Prometheus scrape `target` (`host:port` serving `/metrics`) under the job
 * `driftguard`, with `labels`. `name` identifies the target file; it is picked up within a few
 * seconds. Call {@link removePrometheusTarget} when done.
 */
export async function addPrometheusTarget(
  name: string,
  target: string,
  labels: Record<string, string> = {},
): Promise<void> {
  await writePrometheusTargets(servicesEnv().prometheusTargetsDir, name, [{ targets: [target], labels }]);
}

export async function removePrometheusTarget(name: string): Promise<void> {
  await removePrometheusTargets(servicesEnv().prometheusTargetsDir, name);
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Runs an instant PromQL query and returns the vector's samples. */
export async function prometheusQuery(url: string, promql: string): Promise<PromSample[]> {
  const target = new URL('/api/v1/query', url);
  target.searchParams.set('query', promql);
  const response = await fetch(target, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: PromSample[] };
  };
  if (!response.ok || body.status !== 'success')
    throw new Error(`Prometheus query ${JSON.stringify(promql)} failed: ${body.error ?? response.status}`);
  return body.data?.result ?? [];
}
