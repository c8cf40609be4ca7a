import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  CLICKHOUSE_PLUGIN,
  allPanels,
  dashboardsDir,
  expandClickhouseSql,
  expandPromql,
  exposedMetricNames,
  grafanaDir,
  loadDashboards,
  loadProvisionedDatasources,
  metricNames,
  panelQueries,
  rulesFile,
  rulesTestFile,
  type GridPos,
  type QueryContext,
} from './dashboards.js';

/**
 * Structure of the Grafana dashboards, their provisioning and the Prometheus rules, without
 * services. The queries themselves run against the real ClickHouse and Prometheus in
 * test/integration/dashboards-queries.test.ts.
 */

const dashboards = loadDashboards();
const datasources = loadProvisionedDatasources();

describe('provisioning', () => {
  it('pins two datasources by uid: ClickHouse (plugin, HTTP, default database) and Prometheus', () => {
    const byUid = new Map(datasources.map((ds) => [ds.uid, ds]));
    expect(byUid.size).toBe(datasources.length);
    const clickhouse = byUid.get('driftguard-clickhouse');
    expect(clickhouse?.type).toBe(CLICKHOUSE_PLUGIN);
    expect(clickhouse?.jsonData).toMatchObject({ protocol: 'http', defaultDatabase: 'driftguard' });
    expect(typeof clickhouse?.jsonData?.['host']).toBe('string');
    expect(typeof clickhouse?.jsonData?.['port']).toBe('number');
    const prometheus = byUid.get('driftguard-prometheus');
    expect(prometheus?.type).toBe('prometheus');
    expect(prometheus?.url).toMatch(/^https?:\/\//);
  });

  it('has a file provider for the dashboards folder', () => {
    const doc = parse(
      readFileSync(path.join(dashboardsDir, 'provisioning', 'dashboards', 'driftguard.yaml'), 'utf8'),
    ) as { apiVersion: number; providers: Array<{ type: string; options: { path: string } }> };
    expect(doc.apiVersion).toBe(1);
    expect(doc.providers).toHaveLength(1);
    expect(doc.providers[0]?.type).toBe('file');
    expect(doc.providers[0]?.options.path).toMatch(/^\//);
  });
});

describe('dashboards', () => {
  it('are the overview, per-model and retune dashboards with fixed, unique uids', () => {
    expect(dashboards.map((d) => d.dashboard.uid).sort()).toEqual([
      'driftguard-model',
      'driftguard-overview',
      'driftguard-retune',
    ]);
    for (const { dashboard } of dashboards) {
      expect(dashboard.title).toMatch(/^driftguard \/ /);
      expect(typeof dashboard.schemaVersion).toBe('number');
      expect(Array.isArray(dashboard.templating.list)).toBe(true);
    }
  });

  it.each(dashboards.map((d) => [d.file]))(
    '%s: no import placeholders, no $__timeInterval, no toStartOfInterval',
    (file) => {
      const text = readFileSync(path.join(grafanaDir, file), 'utf8');
      expect(text).not.toContain('${DS_');
      expect(text).not.toContain('__inputs');
      expect(text).not.toContain('$__timeInterval');
      expect(text).not.toMatch(/toStartOfInterval/i);
    },
  );

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))(
    '%s: unique panel ids, every panel placed on the 24-column grid without overlaps',
    (_file, dashboard) => {
      const panels = allPanels(dashboard);
      const ids = panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      const placed: Array<{ title: string; pos: GridPos }> = [];
      for (const panel of panels) {
        const pos = panel.gridPos;
        expect(pos, `gridPos of "${panel.title}"`).toBeDefined();
        if (pos === undefined) continue;
        for (const key of ['x', 'y', 'w', 'h'] as const) expect(Number.isInteger(pos[key])).toBe(true);
        expect(pos.w).toBeGreaterThan(0);
        expect(pos.h).toBeGreaterThan(0);
        expect(pos.x).toBeGreaterThanOrEqual(0);
        expect(pos.x + pos.w, `"${panel.title}" ends past column 24`).toBeLessThanOrEqual(24);
        for (const other of placed) {
          const overlap =
            pos.x < other.pos.x + other.pos.w &&
            other.pos.x < pos.x + pos.w &&
            pos.y < other.pos.y + other.pos.h &&
            other.pos.y < pos.y + pos.h;
          expect(overlap, `"${panel.title}" overlaps "${other.title}"`).toBe(false);
        }
        placed.push({ title: panel.title, pos });
      }
    },
  );

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))(
    '%s: every datasource is a provisioned uid of the right type',
    (_file, dashboard) => {
      const types = new Map(datasources.map((ds) => [ds.uid, ds.type]));
      const refs = [
        ...allPanels(dashboard).flatMap((p) => (p.datasource ? [p.datasource] : [])),
        ...panelQueries(dashboard).flatMap((q) => (q.datasource ? [q.datasource] : [])),
        ...dashboard.templating.list.flatMap((v) => (v.datasource ? [v.datasource] : [])),
      ];
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) {
        expect(types.has(ref.uid), `datasource uid ${ref.uid} is not provisioned`).toBe(true);
        expect(ref.type).toBe(types.get(ref.uid));
      }
    },
  );

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))(
    '%s: ClickHouse targets are raw SQL with a format; Prometheus targets are range queries',
    (_file, dashboard) => {
      const queries = panelQueries(dashboard);
      expect(queries.length).toBeGreaterThan(0);
      for (const { datasource, target, label } of queries) {
        expect(datasource, label).toBeDefined();
        if (datasource?.type === CLICKHOUSE_PLUGIN) {
          expect(target.editorType, label).toBe('sql');
          expect(typeof target.rawSql, label).toBe('string');
          expect(target.rawSql?.trim().length, label).toBeGreaterThan(0);
          expect([0, 1], label).toContain(target.format);
          // The datasource's defaultDatabase picks the database: no qualified table names.
          expect(target.rawSql, label).not.toMatch(/\b(FROM|JOIN)\s+\w+\.\w+/i);
        } else {
          expect(datasource?.type, label).toBe('prometheus');
          expect(typeof target.expr, label).toBe('string');
          expect(typeof target.legendFormat, label).toBe('string');
          expect(target.range, label).toBe(true);
        }
      }
    },
  );

  it.each(dashboards.map((d) => [d.file, d.dashboard] as const))(
    '%s: every template variable used is defined, and model comes from a ClickHouse query',
    (_file, dashboard) => {
      const defined = new Set(dashboard.templating.list.map((v) => v.name));
      for (const { target, label } of panelQueries(dashboard)) {
        const text = target.rawSql ?? target.expr ?? '';
        for (const match of text.matchAll(/\$\{?([A-Za-z_]\w*)/g)) {
          const name = match[1] as string;
          if (name.startsWith('__')) continue;
          expect(defined.has(name), `${label} uses undefined $${name}`).toBe(true);
        }
      }
      const model = dashboard.templating.list.find((v) => v.name === 'model');
      if (dashboard.uid === 'driftguard-overview') return;
      expect(model?.type).toBe('query');
      expect(model?.datasource?.type).toBe(CLICKHOUSE_PLUGIN);
      expect(model?.query).toMatch(/SELECT DISTINCT model FROM \w+/);
    },
  );

  it('cover the data the brief names: drift, heatmap, distributions, performance, estimated performance, multivariate drift, attribution, quality, retune', () => {
    const titles = (uid: string): string[] => {
      const found = dashboards.find((d) => d.dashboard.uid === uid);
      return found ? allPanels(found.dashboard).map((p) => `${p.type}:${p.title}`) : [];
    };
    expect(titles('driftguard-model')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^heatmap:.*feature × time/),
        expect.stringMatching(/^timeseries:Drift statistic by feature and detector/),
        expect.stringMatching(/^table:Predicted classes/),
        expect.stringMatching(/^table:Outcome labels/),
        expect.stringMatching(/^timeseries:Label coverage/),
        expect.stringMatching(/^table:Data-quality rules/),
        expect.stringMatching(/^timeseries:Estimated vs realized performance$/),
        expect.stringMatching(/^timeseries:Multivariate drift: reconstruction error/),
        expect.stringMatching(/^table:Features that explain the model/),
      ]),
    );
    expect(titles('driftguard-retune')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^table:Studies$/),
        expect.stringMatching(/^timeseries:Trial objective values/),
        expect.stringMatching(/^table:Promotion decisions/),
        expect.stringMatching(/^table:Alias history/),
      ]),
    );
  });
});

describe('macro and variable expansion (as Grafana and the ClickHouse plugin do it)', () => {
  const context: QueryContext = {
    fromSec: 1_700_000_000,
    toSec: 1_700_003_600,
    intervalSec: 60,
    variables: { model: 'fraud', models: ['fraud', "o'brien"] },
  };

  it('expands $__timeFilter, $__fromTime, $__toTime and $__interval_s', () => {
    expect(
      expandClickhouseSql(
        'SELECT intDiv(toUInt32(ts), $__interval_s) * $__interval_s AS t FROM p WHERE $__timeFilter(ts) AND x < $__toTime AND y > $__fromTime',
        context,
      ),
    ).toBe(
      'SELECT intDiv(toUInt32(ts), 60) * 60 AS t FROM p WHERE ts >= toDateTime(1700000000) AND ts <= toDateTime(1700003600) AND x < toDateTime(1700003600) AND y > toDateTime(1700000000)',
    );
  });

  it('interpolates $model, ${model} and ${models:singlequote} with escaping', () => {
    expect(expandClickhouseSql("model = '$model' OR model = '${model}'", context)).toBe(
      "model = 'fraud' OR model = 'fraud'",
    );
    expect(expandClickhouseSql('model IN (${models:singlequote})', context)).toBe(
      "model IN ('fraud','o\\'brien')",
    );
    expect(() => expandClickhouseSql('$unknown', context)).toThrow(/\$unknown has no value/);
  });

  it('expands PromQL ranges and regex variables', () => {
    expect(
      expandPromql('rate(x{model=~"$models"}[$__rate_interval]) + increase(y[$__range])', {
        ...context,
        rateIntervalSec: 30,
      }),
    ).toBe('rate(x{model=~"(fraud|o\'brien)"}[30s]) + increase(y[3600s])');
  });

  it('finds the metric names of an expression and of a /metrics text', () => {
    expect(
      metricNames(
        'sum by (topic) (rate(driftguard_ingest_events_total{result="driftguard_x"}[5m])) / up{job="driftguard"}',
      ),
    ).toEqual(['driftguard_ingest_events_total', 'up']);
    expect(
      metricNames('histogram_quantile(0.5, sum by (le) (rate(driftguard_a_seconds_bucket[1m])))'),
    ).toEqual(['driftguard_a_seconds_bucket']);
    expect([
      ...exposedMetricNames('# HELP a x\n# TYPE a counter\na_total{x="1"} 3\nb 1\nc_bucket{le="1"} 2\n'),
    ]).toEqual(['a_total', 'b', 'c_bucket']);
  });
});

interface RuleGroup {
  name: string;
  rules: Array<{ alert?: string; expr: string; for?: string; labels?: Record<string, string> }>;
}
interface RulesTests {
  rule_files: string[];
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
}

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', (error) =>
      reject(
        new Error(
          `cannot run ${command} (${error.message}): install Prometheus's promtool (Debian package \`prometheus\`, or \`npx driftguard dev-services up\` as root)`,
        ),
      ),
    );
    child.once('close', (code) => resolve({ code, output }));
  });
}

describe('Prometheus alerting rules', () => {
  const groups = (parse(readFileSync(rulesFile, 'utf8')) as { groups: RuleGroup[] }).groups;
  const alerts = groups.flatMap((g) => g.rules.flatMap((r) => (r.alert ? [r] : [])));

  it('alert on each failure of driftguard itself, with a severity and a for duration', () => {
    expect(alerts.map((r) => r.alert).sort()).toEqual([
      'DriftguardAbsent',
      'DriftguardAlertDeliveryFailing',
      'DriftguardConsumerLagGrowing',
      'DriftguardDeadLettersRising',
      'DriftguardDown',
      'DriftguardEstimatedPerformanceDegraded',
      'DriftguardIngestStalled',
      'DriftguardModelCritical',
      'DriftguardStoreDown',
    ]);
    for (const rule of alerts) {
      expect(['warning', 'critical']).toContain(rule.labels?.['severity']);
      expect(rule.for).toMatch(/^\d+m$/);
    }
  });

  it('every alert has a unit test where it fires and one where it does not', () => {
    const tests = parse(readFileSync(rulesTestFile, 'utf8')) as RulesTests;
    expect(tests.rule_files).toEqual([path.basename(rulesFile)]);
    const evals = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const rule of alerts) {
      const mine = evals.filter((e) => e.alertname === rule.alert);
      expect(
        mine.some((e) => (e.exp_alerts ?? []).length > 0),
        `${rule.alert} never expected to fire`,
      ).toBe(true);
      expect(
        mine.some((e) => (e.exp_alerts ?? []).length === 0),
        `${rule.alert} never expected silent`,
      ).toBe(true);
    }
  });

  it('pass `promtool check rules`', async () => {
    const { code, output } = await run('promtool', ['check', 'rules', rulesFile]);
    expect(output).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(code, output).toBe(0);
  });

  it('pass `promtool test rules`', async () => {
    const { code, output } = await run('promtool', ['test', 'rules', rulesTestFile]);
    expect(code, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });
});
