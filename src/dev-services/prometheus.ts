import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { findFreePorts } from './ports.js';
import { serviceDir, type ServicesLayout } from './layout.js';
import { removeFile, spawnDetached, writeFileAtomic } from './process.js';
import {
  retryOnPortClash,
  waitForReady,
  type ServiceDriver,
  type ServiceRecord,
  type StartContext,
} from './service.js';

/** The scrape job that reads targets from `targets/*.json` (see {@link writePrometheusTargets}). */
export const prometheusJobName = 'driftguard';

export function prometheusTargetsDir(layout: ServicesLayout): string {
  return path.join(serviceDir(layout, 'prometheus'), 'targets');
}

export function prometheusRulesDir(layout: ServicesLayout): string {
  return path.join(serviceDir(layout, 'prometheus'), 'rules');
}

export interface PrometheusConfigOptions {
  targetsDir: string;
  rulesDir: string;
  /** @default 2 */
  scrapeIntervalSeconds?: number;
}

/**
 * `prometheus.yml`: scrape and evaluate every 2 s; one `file_sd_configs` job named `driftguard`
 * whose targets are the JSON files in `targetsDir` (picked up within seconds, no reload); rule
 * files `rulesDir/*.yml` (loaded on start and on `POST /-/reload`).
 */
export function renderPrometheusConfig(options: PrometheusConfigOptions): string {
  const interval = `${options.scrapeIntervalSeconds ?? 2}s`;
  return `# Written by \`driftguard dev-services up\`; rewritten on every start.\n${stringify({
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    rule_files: [path.join(options.rulesDir, '*.yml')],
    scrape_configs: [
      {
        job_name: prometheusJobName,
        file_sd_configs: [{ files: [path.join(options.targetsDir, '*.json')], refresh_interval: interval }],
      },
    ],
  })}`;
}

export const prometheusDriver: ServiceDriver = {
  name: 'prometheus',
  start(context: StartContext): Promise<ServiceRecord> {
    return retryOnPortClash(() => startOnce(context), context.logger);
  },
  async probe(record: ServiceRecord): Promise<boolean> {
    const port = record.ports['http'];
    return port !== undefined && (await prometheusReady(port));
  },
};

async function startOnce(context: StartContext): Promise<ServiceRecord> {
  const dir = serviceDir(context.layout, 'prometheus');
  const targetsDir = prometheusTargetsDir(context.layout);
  const rulesDir = prometheusRulesDir(context.layout);
  await Promise.all(
    [targetsDir, rulesDir, path.join(dir, 'data')].map((folder) => mkdir(folder, { recursive: true })),
  );
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(configFile, renderPrometheusConfig({ targetsDir, rulesDir }));
  const [port = 0] = await findFreePorts(1);
  const logFile = path.join(dir, 'prometheus.log');
  const command = context.binaries.prometheus;
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    '--storage.tsdb.retention.time=2d',
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-lifecycle',
    '--log.level=info',
  ];
  const pid = await spawnDetached(command, args, { logFile, cwd: dir });
  await waitForReady({
    name: 'prometheus',
    pid,
    command,
    logFiles: [logFile],
    timeoutMs: context.readyTimeoutMs,
    check: () => prometheusReady(port),
  });
  return {
    name: 'prometheus',
    pid,
    command,
    ports: { http: port },
    logFile,
    startedAt: new Date().toISOString(),
  };
}

export async function prometheusReady(port: number, timeoutMs = 2_000): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/-/ready`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    return response.ok;
  } catch {
    // Refused or timed out: not ready (yet).
    return false;
  }
}

export interface PrometheusTargetGroup {
  /** `host:port` of each endpoint serving `/metrics`. */
  targets: string[];
  labels?: Record<string, string>;
}

/**
 * Makes the local Prometheus scrape `targets` (job `driftguard`) by writing
 * `<targetsDir>/<name>.json`; file_sd picks it up within a few seconds. `name` must be
 * `[A-Za-z0-9_-]+`. Written atomically (temporary file, then rename).
 */
export async function writePrometheusTargets(
  targetsDir: string,
  name: string,
  groups: PrometheusTargetGroup[],
): Promise<string> {
  const file = targetFile(targetsDir, name);
  // The temporary name does not end in .json, so file_sd never reads it half-written.
  await writeFileAtomic(
    file,
    JSON.stringify(groups.map((group) => ({ targets: group.targets, labels: group.labels ?? {} }))),
  );
  return file;
}

/** Stops scraping what {@link writePrometheusTargets} added under `name`. */
export async function removePrometheusTargets(targetsDir: string, name: string): Promise<void> {
  await removeFile(targetFile(targetsDir, name));
}

function targetFile(targetsDir: string, name: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(name))
    throw new Error(`Prometheus target file name ${JSON.stringify(name)} must match [A-Za-z0-9_-]+`);
  return path.join(targetsDir, `${name}.json`);
}
