import type { Command } from 'commander';
import {
  ApiClient,
  modelPath,
  table,
  withApiOptions,
  type ApiClientDeps,
  type ApiCommandOptions,
} from './api-client.js';

/**
 * `driftguard status`, `drift <model>`, `alerts`: what the daemon sees, as readable tables (or
 * the API's JSON with `--json`).
 */
interface ModelsJson {
  models: Array<{
    model: string;
    configured: boolean;
    recentEvents: number;
    lastEventMs: number | null;
    /** Rows stored, in all and in the model's current window (daemons before 0.2 omit it). */
    stored?: {
      predictions: { total: number; window: number };
      outcomes: { total: number; window: number };
    };
    health: {
      status: string;
      reasons: string[];
      evaluatedAtMs: number;
      windowEvents: number;
      driftedFeatures: number;
    } | null;
  }>;
}

interface DriftJson {
  results: Array<{
    evaluated_at_ms: string | number;
    feature: string;
    detector: string;
    statistic: number;
    p_value: number | null;
    effect: number | null;
    threshold: number;
    drifted: number;
    status: string;
  }>;
}

interface AlertsJson {
  alerts: Array<{
    createdAtMs: number;
    model: string;
    status: string;
    alerts: Array<{ rule: string; severity: string; summary: string }>;
    deliveries: Array<{ sink: string; status: string }>;
  }>;
}

const time = (ms: number | string | null | undefined): string =>
  ms === null || ms === undefined ? '-' : new Date(Number(ms)).toISOString().replace('T', ' ').slice(0, 19);
const num = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(Number(v))
    ? '-'
    : Number(Number(v).toPrecision(4)).toString();

export function registerObserveCommands(
  program: Command,
  deps: ApiClientDeps & { stdout?: { write(text: string): unknown } } = {},
): void {
  const out = deps.stdout ?? process.stdout;
  const print = (text: string): void => void out.write(text);

  withApiOptions(program.command('status').description('Models the daemon monitors and their health')).action(
    async (options: ApiCommandOptions) => {
      const body = await new ApiClient(options.url, deps).call<ModelsJson>('GET', '/v1/models');
      if (options.json) return print(`${JSON.stringify(body, null, 2)}\n`);
      if (body.models.length === 0)
        return print('no models yet: send prediction events (see README "Event format")\n');
      print(
        table(
          [
            'MODEL',
            'HEALTH',
            'EVENTS (WINDOW)',
            'STORED PREDICTIONS',
            'OUTCOMES',
            'DRIFTED FEATURES',
            'EVALUATED',
            'REASONS',
          ],
          body.models.map((m) => [
            m.model,
            m.health?.status ?? 'not evaluated',
            String(m.health?.windowEvents ?? m.recentEvents),
            m.stored === undefined ? '-' : String(m.stored.predictions.total),
            m.stored === undefined ? '-' : String(m.stored.outcomes.total),
            String(m.health?.driftedFeatures ?? '-'),
            time(m.health?.evaluatedAtMs),
            (m.health?.reasons ?? []).join('; ').slice(0, 100),
          ]),
        ),
      );
    },
  );

  withApiOptions(program.command('drift <model>').description("A model's drift results, newest first"))
    .option('--feature <name>', 'only this feature')
    .option('--limit <n>', 'rows', '40')
    .action(async (model: string, options: ApiCommandOptions & { feature?: string; limit: string }) => {
      const query = new URLSearchParams({
        limit: options.limit,
        ...(options.feature ? { feature: options.feature } : {}),
      });
      const body = await new ApiClient(options.url, deps).call<DriftJson>(
        'GET',
        `${modelPath(model)}/drift?${query.toString()}`,
      );
      if (options.json) return print(`${JSON.stringify(body, null, 2)}\n`);
      if (body.results.length === 0) return print(`no drift results for ${model} in the last 24 h\n`);
      print(
        table(
          ['EVALUATED', 'FEATURE', 'DETECTOR', 'STATISTIC', 'P-VALUE', 'EFFECT', 'THRESHOLD', 'STATUS'],
          body.results.map((r) => [
            time(r.evaluated_at_ms),
            r.feature || '(model)',
            r.detector,
            num(r.statistic),
            num(r.p_value),
            num(r.effect),
            num(r.threshold),
            r.drifted ? `${r.status} (drift)` : r.status,
          ]),
        ),
      );
    });

  withApiOptions(program.command('alerts').description('Recent alert notifications and their delivery'))
    .option('--model <name>', 'only this model')
    .option('--limit <n>', 'notifications', '20')
    .action(async (options: ApiCommandOptions & { model?: string; limit: string }) => {
      const query = new URLSearchParams({
        limit: options.limit,
        ...(options.model ? { model: options.model } : {}),
      });
      const body = await new ApiClient(options.url, deps).call<AlertsJson>(
        'GET',
        `/v1/alerts?${query.toString()}`,
      );
      if (options.json) return print(`${JSON.stringify(body, null, 2)}\n`);
      if (body.alerts.length === 0) return print('no alerts\n');
      print(
        table(
          ['AT', 'MODEL', 'STATUS', 'ALERTS', 'DELIVERY'],
          body.alerts.map((n) => [
            time(n.createdAtMs),
            n.model,
            n.status,
            n.alerts
              .map((a) => `${a.severity} ${a.rule}`)
              .join(', ')
              .slice(0, 80),
            n.deliveries.map((d) => `${d.sink}:${d.status}`).join(' '),
          ]),
        ),
      );
    });
}
