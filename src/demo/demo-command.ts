import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { brokerServicesUp, servicesUp } from '../dev-services/index.js';
import { createLogger } from '../../kernel/logger.js';
import { renderLineChart } from './charts.js';
import { DemoApi, type DecisionJson, type StudyJson } from './demo-api.js';
import { demoConfig, DEMO_TOKEN, type DemoTimings } from './demo-config.js';
import { DemoReceiver } from './receiver.js';
import { TrafficLoop } from './traffic-loop.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface DemoOptions {
  keep?: boolean;
  quick?: boolean;
  /** Where the daemon stores: its embedded engine (no server needed) or a ClickHouse server. @default 'embedded' */
  store?: 'embedded' | 'server';
}

export interface DemoSummary {
  ok: boolean;
  store: 'embedded' | 'server';
  events: { predictions: number; outcomes: number; invalid: number };
  stored: { predictions: number; outcomes: number };
  deadLettered: number;
  criticalAfterMs: number | null;
  alertsReceived: number;
  alertSignaturesValid: boolean;
  resolvedReceived: number;
  study: { id: string; state: string; trials: number; bestValue: number | null } | null;
  /** Whether the drift-triggered study was seen waiting for post-drift labels before it trained. */
  waitedForLabels: boolean;
  decision: DecisionJson | null;
  /** The window the decision says the challenger learnt from (its `evidence.window`). */
  dataWindow: Record<string, unknown> | null;
  charts: string[];
  outputDir: string;
  daemonUrl: string;
  wallSeconds: number;
}

const say = (line: string): void => {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${line}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (v: number | null | undefined): string =>
  v === null || v === undefined ? '-' : Number(v.toPrecision(4)).toString();

/** `driftguard demo`: the whole story on local services, narrated as it happens. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Run driftguard end to end on local services: ingest, drift, alert, retune, decision')
    .option('--keep', 'leave the daemon and services running afterwards')
    .option('--quick', 'a shorter run (used by the end-to-end test)')
    .addOption(
      new Option(
        '--store <engine>',
        'embedded: ClickHouse in-process, no server; server: a local ClickHouse server',
      )
        .choices(['embedded', 'server'])
        .default('embedded'),
    )
    .action(async (options: DemoOptions) => {
      const summary = await runDemo(options);
      process.stdout.write(`\n${JSON.stringify(summary)}\n`);
      if (!summary.ok) process.exitCode = 1;
    });
}

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const started = Date.now();
  const timings: DemoTimings = options.quick
    ? {
        rate: 40,
        windowMs: 8_000,
        intervalMs: 3_000,
        stationaryMs: 25_000,
        labelDelayMs: 2_000,
        maxTrials: 5,
        epochs: 15,
        cooldownMs: 20_000,
        dataLookbackMs: 120_000,
        postDriftRows: 1500,
        driftTimeoutMs: 60_000,
        studyTimeoutMs: 150_000,
      }
    : {
        rate: 50,
        windowMs: 15_000,
        intervalMs: 5_000,
        stationaryMs: 45_000,
        labelDelayMs: 3_000,
        cooldownMs: 40_000,
        dataLookbackMs: 300_000,
        postDriftRows: 3000,
        maxTrials: 10,
        epochs: 25,
        driftTimeoutMs: 90_000,
        studyTimeoutMs: 180_000,
      };
  const engine = options.store ?? 'embedded';
  // One folder per store, so that the two stories can run side by side (as the tests do).
  const outputDir = path.join(repoRoot, '.driftguard', engine === 'embedded' ? 'demo' : 'demo-server');
  await rm(outputDir, { recursive: true, force: true });
  await mkdir(outputDir, { recursive: true });

  const storePath = path.join(outputDir, 'store');
  const services = await startServices(engine, storePath);

  const receiverSecret = 'demo-webhook-secret-0123456789';
  const receiver = new DemoReceiver(receiverSecret);
  const receiverUrl = await receiver.listen();
  receiver.onAlert = (alert) => {
    const what =
      alert.body.alerts?.map((a) => `${a.severity ?? ''} ${a.rule ?? ''}`.trim()).join(', ') ??
      alert.body.summary ??
      '';
    say(
      `    ✉ webhook (${alert.signatureValid ? 'signature valid' : 'BAD SIGNATURE'}): ${alert.body.status ?? alert.body.kind ?? ''} ${alert.body.model ?? ''}: ${what}`,
    );
  };

  const run = Date.now().toString(36);
  const database = `driftguard_demo_${run}`;
  const topics = {
    predictions: `demo.${run}.predictions`,
    outcomes: `demo.${run}.outcomes`,
    deadLetter: `demo.${run}.dead-letter`,
    events: `demo.${run}.events`,
  };
  const configFile = path.join(outputDir, 'driftguard.yaml');
  await writeFile(
    configFile,
    demoConfig({
      database,
      store: engine === 'embedded' ? { engine, path: storePath } : { engine },
      topics,
      receiverUrl,
      receiverSecret,
      outputDir,
      timings,
    }),
  );

  say('2/7 starting the daemon with a demo config for two models (fraud: a classifier, eta: a regression)…');
  const daemon = await startDaemon(
    { ...services.env, DRIFTGUARD_STORE: engine },
    configFile,
    path.join(outputDir, 'daemon.log'),
  );
  const api = new DemoApi(`http://127.0.0.1:${daemon.port}`, DEMO_TOKEN);
  say(
    `    daemon at ${api.base} (log: .driftguard/demo/daemon.log, config: .driftguard/demo/driftguard.yaml)`,
  );

  const kafka = new Kafka({
    clientId: 'driftguard-demo',
    brokers: [services.kafkaBrokers],
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer({
    allowAutoTopicCreation: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const traffic = new TrafficLoop(producer, topics, timings.rate, timings.labelDelayMs);
  let criticalAfterMs: number | null = null;
  let study: StudyJson | undefined;
  let decision: DecisionJson | undefined;
  let waitedForLabels = false;
  const charts: string[] = [];
  try {
    say(
      `3/7 traffic: ${timings.rate} predictions/s per model, outcomes ${timings.labelDelayMs / 1000} s later, a few malformed records`,
    );
    await traffic.sendInvalid();
    traffic.start();
    const stationaryEnd = Date.now() + timings.stationaryMs;
    while (Date.now() < stationaryEnd) {
      await sleep(5_000);
      await reportStatus(api, traffic);
    }

    say(
      '4/7 training a first champion for "fraud" on the stationary traffic (a manual retune: no champion exists yet)…',
    );
    const baseline = await api.post<{ studyId: string }>('/v1/models/fraud/retune', { force: true });
    const first = await followStudy(api, baseline.studyId, timings.studyTimeoutMs);
    say(
      `    study ${first?.studyId ?? baseline.studyId} ${first?.state ?? 'unknown'}; ${(await api.decisions('fraud'))[0]?.reason ?? 'no decision'}`,
    );

    say(
      '5/7 ⚡ injecting drift into "fraud": larger amounts, a new country mix, and a fraud pattern the model never learnt',
    );
    const driftAt = Date.now();
    traffic.drift();
    const deadline = driftAt + timings.driftTimeoutMs;
    while (Date.now() < deadline) {
      await sleep(2_000);
      const health = await api.health('fraud');
      if (health?.status === 'critical') {
        criticalAfterMs = Date.now() - driftAt;
        say(
          `    ✖ fraud is CRITICAL ${Math.round(criticalAfterMs / 1000)} s after the drift: ${health.reasons.slice(0, 3).join('; ')}`,
        );
        break;
      }
    }
    if (criticalAfterMs === null) say('    fraud did not turn critical in time');

    say(
      '6/7 the monitor starts a retune study anchored at the drift onset: it waits for labelled rows after the drift, then learns from those only…',
    );
    // The drift-triggered study waits for post-drift labels, trains on them and decides. Should
    // the gate keep the champion, the monitor tries again after the cooldown while the model is
    // still critical. Follow up to two studies.
    const seen = new Set<string>();
    for (let attempt = 0; attempt < 2 && decision?.promoted !== true; attempt++) {
      const found = await waitForMonitorStudy(api, seen, timings.cooldownMs + 30_000);
      if (found === undefined) break;
      seen.add(found);
      if (attempt > 0) say('    still critical after the cooldown: the monitor starts another study');
      study = await followStudy(api, found, timings.studyTimeoutMs, () => (waitedForLabels = true));
      decision = (await api.decisions('fraud')).find((d) => d.studyId === found);
      if (decision) {
        const rows = decision.evidence?.['rows'];
        const window = decision.evidence?.['window'] as Record<string, unknown> | undefined;
        const onset =
          typeof window?.['onsetMs'] === 'number' ? new Date(window['onsetMs']).toISOString() : undefined;
        say(
          `    learnt from ${window?.['policy'] === 'drift-onset' ? `rows after the drift onset ${onset ?? ''}` : 'the lookback window'}; challenger ${decision.challengerVersion} vs champion ${decision.championVersion || '(none)'} on ${typeof rows === 'number' ? rows : 'the'} post-drift holdout rows no program saw: ${decision.metric} ${fmt(decision.challengerValue)} vs ${fmt(decision.championValue)}, one-sided lower bound of the gain ${fmt(decision.evidence?.['lowerBound'] as number | undefined)}`,
        );
        say(`    decision: ${decision.promoted ? '✔ PROMOTED' : '✘ champion kept'} — ${decision.reason}`);
      }
    }
    if (study === undefined) say('    no study was triggered in time');

    await traffic.stop();
    const stored = await waitForStored(api, traffic.counts);
    const deadLettered = await metricValue(api.base, 'driftguard_dead_lettered_total');
    say(
      `7/7 stored ${stored.predictions} predictions and ${stored.outcomes} outcomes; ${deadLettered} malformed records dead-lettered with their reasons`,
    );
    charts.push(...(await drawCharts(api, started, study, outputDir)));
    const firing = receiver.received.filter((a) => a.body.status === 'firing');
    const resolved = receiver.received.filter((a) => a.body.status === 'resolved');
    const summary: DemoSummary = {
      store: engine,
      ok:
        stored.predictions === traffic.counts.predictions &&
        stored.outcomes === traffic.counts.outcomes &&
        deadLettered === traffic.counts.invalid &&
        criticalAfterMs !== null &&
        firing.length > 0 &&
        receiver.received.every((a) => a.signatureValid) &&
        study?.state === 'completed' &&
        decision !== undefined &&
        (decision.evidence?.['window'] as { policy?: string } | undefined)?.policy === 'drift-onset',
      events: { ...traffic.counts },
      stored,
      deadLettered,
      criticalAfterMs,
      alertsReceived: firing.length,
      alertSignaturesValid: receiver.received.every((a) => a.signatureValid),
      resolvedReceived: resolved.length,
      study: study
        ? {
            id: study.studyId,
            state: study.state,
            trials: study.trials?.length ?? 0,
            bestValue: study.bestValue,
          }
        : null,
      waitedForLabels,
      decision: decision ?? null,
      dataWindow: (decision?.evidence?.['window'] as Record<string, unknown> | undefined) ?? null,
      charts,
      outputDir,
      daemonUrl: api.base,
      wallSeconds: Math.round((Date.now() - started) / 1000),
    };
    say(
      `done in ${summary.wallSeconds} s: ${summary.ok ? 'every step happened as expected' : 'SOMETHING DID NOT HAPPEN (see above)'}. Look around:`,
    );
    say(`    charts:      ${charts.map((c) => path.relative(repoRoot, c)).join(', ')}`);
    say(`    health:      curl ${api.base}/v1/models   (or: npx driftguard status --url ${api.base})`);
    say(`    drift:       curl ${api.base}/v1/models/fraud/drift`);
    say(`    alerts:      curl ${api.base}/v1/alerts`);
    say(`    studies:     curl ${api.base}/v1/studies?model=fraud`);
    say(
      services.clickhouseUrl === undefined
        ? `    store:       ${path.relative(repoRoot, storePath)} (embedded ClickHouse; \`npx driftguard demo --store server\` runs the same story on a ClickHouse server)`
        : `    ClickHouse:  curl '${services.clickhouseUrl}/?query=SELECT+feature,detector,max(statistic)+FROM+${database}.drift_results+WHERE+model=%27fraud%27+GROUP+BY+feature,detector'`,
    );
    say(`    metrics:     curl ${api.base}/metrics   Prometheus: ${services.prometheusUrl}`);
    say(`    dashboards:  dashboards/ (Grafana provisioning; see docs/dashboards.md)`);
    return summary;
  } finally {
    await producer.disconnect();
    await receiver.close();
    if (options.keep) {
      say(
        `--keep: the daemon (pid ${daemon.process.pid}) and the services stay up; stop with: kill ${daemon.process.pid}; npx driftguard dev-services down`,
      );
      daemon.process.unref();
    } else {
      daemon.process.kill('SIGTERM');
      await new Promise((resolve) => daemon.process.once('exit', resolve));
      await dropDemoData(services.clickhouseUrl, database, storePath);
    }
  }
}

async function reportStatus(api: DemoApi, traffic: TrafficLoop): Promise<void> {
  const [fraud, eta] = await Promise.all([api.health('fraud'), api.health('eta')]);
  say(
    `    sent ${traffic.counts.predictions} predictions, ${traffic.counts.outcomes} outcomes · health: fraud ${fraud?.status ?? 'warming up'}, eta ${eta?.status ?? 'warming up'}`,
  );
}

async function waitForMonitorStudy(
  api: DemoApi,
  seen: ReadonlySet<string>,
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const triggered = (await api.studies('fraud')).find(
      (s) => s.trigger === 'monitor' && !seen.has(s.studyId),
    );
    if (triggered) return triggered.studyId;
    await sleep(1_000);
  }
  return undefined;
}

async function followStudy(
  api: DemoApi,
  id: string,
  timeoutMs: number,
  onWaiting: () => void = () => undefined,
): Promise<StudyJson | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const study = await api.study(id);
    if (study) {
      const trials = study.trials ?? [];
      const done = trials.filter((t) => t.state !== 'running').length;
      const total = Math.max(study.maxTrials, 1);
      const bar = `${'#'.repeat(Math.round((done / total) * 20)).padEnd(20, '-')}`;
      let line = `    [${bar}] ${done}/${total} trials (${trials.filter((t) => t.state === 'pruned').length} pruned) · best ${study.objective} ${fmt(study.bestValue)} · ${study.state}`;
      if (study.state === 'waiting') {
        onWaiting();
        line = `    ⏳ waiting for labels: ${study.window?.labelledRows ?? 0}/${study.window?.neededRows ?? '?'} labelled rows after the drift onset ${study.window?.onset ?? ''}`;
      }
      if (line !== last) say(line);
      last = line;
      if (study.state !== 'running' && study.state !== 'waiting') return study;
    }
    if (Date.now() > deadline) return study;
    await sleep(1_000);
  }
}

/**
 * The local services the demo needs: the Kafka broker and Prometheus always; a ClickHouse server
 * only for `--store server` (the embedded store needs none: nothing is installed for it).
 */
async function startServices(
  engine: 'embedded' | 'server',
  storePath: string,
): Promise<{
  env: Record<string, string>;
  kafkaBrokers: string;
  prometheusUrl: string;
  clickhouseUrl?: string;
}> {
  const logger = createLogger('warn');
  if (engine === 'server') {
    say('1/7 starting local services (a ClickHouse server, a Kafka-protocol broker, Prometheus)…');
    const services = await servicesUp({ logger });
    say(
      `    Kafka ${services.kafkaBrokers}   ClickHouse ${services.clickhouseUrl}   Prometheus ${services.prometheusUrl}`,
    );
    return services;
  }
  say('1/7 starting local services (a Kafka-protocol broker, Prometheus); events are stored in-process…');
  const services = await brokerServicesUp({ logger });
  say(
    `    Kafka ${services.kafkaBrokers}   Prometheus ${services.prometheusUrl}   store: embedded ClickHouse at ${path.relative(repoRoot, storePath)}`,
  );
  return services;
}

/** Removes what the demo stored: its database on the server, or the embedded store's folder. */
async function dropDemoData(
  clickhouseUrl: string | undefined,
  database: string,
  storePath: string,
): Promise<void> {
  if (clickhouseUrl === undefined) {
    await rm(storePath, { recursive: true, force: true });
    return;
  }
  await fetch(`${clickhouseUrl}/?query=${encodeURIComponent(`DROP DATABASE IF EXISTS ${database}`)}`, {
    method: 'POST',
  }).catch(() => undefined);
}

/** Charts drawn from what the daemon's API reports (drift history, the study's trials). */
async function drawCharts(
  api: DemoApi,
  sinceMs: number,
  study: StudyJson | undefined,
  outputDir: string,
): Promise<string[]> {
  const files: string[] = [];
  const rows = (await api.drift('fraud', 'wasserstein', sinceMs)).filter((r) => r.feature !== '');
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
  const features = [...new Set(rows.map((r) => r.feature))];
  if (features.length > 0) {
    const file = path.join(outputDir, 'drift-over-time.png');
    await renderLineChart(
      {
        title: 'fraud: Wasserstein-1 distance to the reference per numeric feature (feature units)',
        xLabel: 'time (UTC)',
        yLabel: 'distance to reference',
        series: features.map((feature, i) => ({
          name: feature,
          color: colors[i % colors.length] as string,
          points: rows
            .filter((r) => r.feature === feature)
            .map((r) => [Number(r.evaluated_at_ms), Number(r.statistic)] as const),
        })),
        formatX: (x) => new Date(x).toISOString().slice(11, 19),
      },
      file,
    );
    files.push(file);
  }
  const detailed = study ? await api.study(study.studyId) : undefined;
  const trials = (detailed?.trials ?? []).filter((t) => t.value !== null);
  if (trials.length > 0) {
    const file = path.join(outputDir, 'trial-objectives.png');
    await renderLineChart(
      {
        title: `retune study ${detailed?.studyId ?? ''}: objective per trial`,
        xLabel: 'trial',
        yLabel: detailed?.objective ?? 'objective',
        series: (
          [
            ['completed', 'complete', '#1f77b4'],
            ['pruned', 'pruned', '#d62728'],
          ] as const
        ).map(([name, state, color]) => ({
          name,
          color,
          dots: true,
          points: trials.filter((t) => t.state === state).map((t) => [t.trial, t.value as number] as const),
        })),
      },
      file,
    );
    files.push(file);
  }
  return files;
}

async function startDaemon(
  servicesEnv: Record<string, string>,
  configFile: string,
  logFile: string,
): Promise<{ process: ChildProcess; port: number }> {
  const log = createWriteStream(logFile);
  const child = spawn(
    process.execPath,
    [
      '--max-old-space-size=512',
      path.join(repoRoot, 'bin', 'driftguard.js'),
      'start',
      '--config',
      configFile,
    ],
    {
      cwd: repoRoot,
      env: daemonEnv(servicesEnv),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let buffer = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the daemon did not start within 90 s; see ${logFile}`)),
      90_000,
    );
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('utf8');
      const port = /"port":(\d+)[^\n]*"msg":"http listening"/.exec(buffer)?.[1];
      if (port !== undefined && /"to":"running"/.test(buffer)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        child.off('exit', onExit);
        resolve({ process: child, port: Number(port) });
      }
    };
    const onExit = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`the daemon exited with code ${code} during start; see ${logFile}`));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * The daemon's environment: ours, less any store or service settings of the caller's shell (the
 * demo's config and services decide), plus the services' variables.
 */
function daemonEnv(servicesEnv: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env))
    if (/^DRIFTGUARD_(CLICKHOUSE|STORE|KAFKA|PROMETHEUS)/.test(name)) delete env[name];
  return { ...env, ...servicesEnv, DRIFTGUARD_LOG_LEVEL: 'info' };
}

/** Waits until the daemon reports as many stored predictions and outcomes as were sent (or 60 s). */
async function waitForStored(
  api: DemoApi,
  expected: { predictions: number; outcomes: number },
): Promise<{ predictions: number; outcomes: number }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const models = await api.models();
    const total = (side: 'predictions' | 'outcomes'): number =>
      models.reduce((sum, m) => sum + (m.stored?.[side].total ?? 0), 0);
    const [predictions, outcomes] = [total('predictions'), total('outcomes')];
    if ((predictions >= expected.predictions && outcomes >= expected.outcomes) || Date.now() > deadline)
      return { predictions, outcomes };
    await sleep(500);
  }
}

async function metricValue(api: string, name: string): Promise<number> {
  const text = await (await fetch(`${api}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.split(' ').pop());
  return total;
}
