import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/**
 * Reading driftguard's Grafana dashboards (dashboards/grafana/*.json) the way Grafana would, for
 * the unit tests (structure) and the integration tests (running every query for real). Grafana
 * cannot be installed here, so the ClickHouse plugin's macros and the template variables are
 * expanded by {@link expandClickhouseSql} and {@link expandPromql}, following the plugin's
 * documented expansions.
 */

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const dashboardsDir = path.join(repoRoot, 'dashboards');
export const grafanaDir = path.join(dashboardsDir, 'grafana');
export const rulesFile = path.join(dashboardsDir, 'prometheus', 'driftguard-rules.yml');
export const rulesTestFile = path.join(dashboardsDir, 'prometheus', 'driftguard-rules.test.yml');

export interface DatasourceRef {
  type: string;
  uid: string;
}

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Target {
  refId?: string;
  datasource?: DatasourceRef;
  // ClickHouse plugin
  editorType?: string;
  rawSql?: string;
  format?: number;
  // Prometheus
  expr?: string;
  legendFormat?: string;
  range?: boolean;
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos?: GridPos;
  datasource?: DatasourceRef;
  targets?: Target[];
  panels?: Panel[];
}

export interface TemplateVariable {
  name: string;
  type: string;
  datasource?: DatasourceRef;
  query?: string;
  multi?: boolean;
  includeAll?: boolean;
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: TemplateVariable[] };
}

export interface LoadedDashboard {
  file: string;
  dashboard: Dashboard;
}

export function loadDashboards(): LoadedDashboard[] {
  return readdirSync(grafanaDir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({
      file: name,
      dashboard: JSON.parse(readFileSync(path.join(grafanaDir, name), 'utf8')) as Dashboard,
    }));
}

/** Every panel, rows' nested (collapsed) panels included. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

export interface PanelQuery {
  dashboard: string;
  panel: Panel;
  target: Target;
  /** The datasource that answers: the target's, else the panel's. */
  datasource: DatasourceRef | undefined;
  /** `<dashboard uid> / <panel title> / <refId>`, for messages. */
  label: string;
}

export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  return allPanels(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      dashboard: dashboard.uid,
      panel,
      target,
      datasource: target.datasource ?? panel.datasource,
      label: `${dashboard.uid} / ${panel.title} / ${target.refId ?? '?'}`,
    })),
  );
}

export const CLICKHOUSE_PLUGIN = 'grafana-clickhouse-datasource';

export interface ProvisionedDatasource {
  name: string;
  uid: string;
  type: string;
  url?: string;
  jsonData?: Record<string, unknown>;
}

export function loadProvisionedDatasources(): ProvisionedDatasource[] {
  const dir = path.join(dashboardsDir, 'provisioning', 'datasources');
  return readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .flatMap((name) => {
      const doc = parse(readFileSync(path.join(dir, name), 'utf8')) as {
        datasources?: ProvisionedDatasource[];
      };
      return doc.datasources ?? [];
    });
}

export interface QueryContext {
  /** Range start and end, Unix seconds. */
  fromSec: number;
  toSec: number;
  /** What Grafana would pick as `$__interval` for the panel, in seconds. */
  intervalSec: number;
  /** Template variables: a single value, or several for a multi-value variable. */
  variables: Record<string, string | readonly string[]>;
}

function values(context: QueryContext, name: string): readonly string[] {
  const value = context.variables[name];
  if (value === undefined) throw new Error(`template variable $${name} has no value in the test context`);
  return typeof value === 'string' ? [value] : value;
}

const quoteSql = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Replaces `$name`, `${name}` and `${name:format}` (formats: singlequote, doublequote, csv, regex, pipe, raw). */
function expandVariables(
  text: string,
  context: QueryContext,
  defaultFormat: (v: readonly string[]) => string,
): string {
  return text.replace(
    /\$\{([A-Za-z_]\w*)(?::(\w+))?\}|\$([A-Za-z_]\w*)/g,
    (match, braced?: string, format?: string, bare?: string) => {
      const name = (braced ?? bare) as string;
      if (name.startsWith('__')) return match; // a macro or a Grafana global, handled elsewhere
      const vals = values(context, name);
      switch (format) {
        case undefined:
          return defaultFormat(vals);
        case 'singlequote':
          return vals.map(quoteSql).join(',');
        case 'doublequote':
          return vals.map((v) => `"${v}"`).join(',');
        case 'csv':
        case 'raw':
          return vals.join(',');
        case 'regex':
        case 'pipe':
          return vals.length === 1 ? (vals[0] as string) : `(${vals.join('|')})`;
        default:
          throw new Error(`unsupported variable format \${${name}:${format}}`);
      }
    },
  );
}

/**
 * What the ClickHouse plugin sends for `rawSql`: `$__timeFilter(col)` becomes
 * `col >= toDateTime(from) AND col <= toDateTime(to)`, `$__fromTime`/`$__toTime` become
 * `toDateTime(<seconds>)`, `$__interval_s` the interval in seconds; template variables are
 * interpolated as Grafana does for SQL (a multi-value variable without format becomes a quoted list).
 */
export function expandClickhouseSql(sql: string, context: QueryContext): string {
  const from = `toDateTime(${Math.floor(context.fromSec)})`;
  const to = `toDateTime(${Math.floor(context.toSec)})`;
  const expanded = sql
    .replace(
      /\$__timeFilter\(\s*([^)]+?)\s*\)/g,
      (_m, col: string) => `${col} >= ${from} AND ${col} <= ${to}`,
    )
    .replace(/\$__fromTime\b/g, from)
    .replace(/\$__toTime\b/g, to)
    .replace(/\$__interval_s\b/g, String(Math.max(1, Math.floor(context.intervalSec))));
  const result = expandVariables(expanded, context, (vals) =>
    vals.length === 1 ? (vals[0] as string) : vals.map(quoteSql).join(','),
  );
  const leftover = /\$__\w+/.exec(result);
  if (leftover) throw new Error(`unexpanded macro ${leftover[0]} in ${result}`);
  return result;
}

/**
 * What Grafana sends to Prometheus for `expr`: `$__rate_interval`, `$__interval` and `$__range`
 * become durations, template variables are interpolated (multi-value as a regex alternation).
 */
export function expandPromql(expr: string, context: QueryContext & { rateIntervalSec: number }): string {
  const expanded = expr
    .replace(/\$__rate_interval\b/g, `${Math.floor(context.rateIntervalSec)}s`)
    .replace(/\$__interval\b/g, `${Math.max(1, Math.floor(context.intervalSec))}s`)
    .replace(/\$__range\b/g, `${Math.floor(context.toSec - context.fromSec)}s`);
  const result = expandVariables(expanded, context, (vals) =>
    vals.length === 1 ? (vals[0] as string) : `(${vals.join('|')})`,
  );
  const leftover = /\$__\w+/.exec(result);
  if (leftover) throw new Error(`unexpanded Grafana variable ${leftover[0]} in ${result}`);
  return result;
}

/**
 * Metric names a PromQL expression of ours reads: driftguard's own (`driftguard_*`) and `up`.
 * Label values (strings) are ignored.
 */
export function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const names = withoutStrings.match(/\b(?:driftguard_\w+|up)\b(?=\s*[{[)]|\s|$)/g) ?? [];
  return [...new Set(names)].sort();
}

/** Names of the samples in a Prometheus text exposition (`/metrics`), histogram series included. */
export function exposedMetricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{|\s)/.exec(line);
    if (match?.[1] !== undefined) names.add(match[1]);
  }
  return names;
}
