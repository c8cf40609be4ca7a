/**
 * `npm run bench:ingest`: sustained ingest rate and peak memory of driftguard against the bare
 * pipe `kcat -C | clickhouse-client INSERT ... FORMAT JSONEachRow` (no validation), on the same
 * stream, services and machine, in the same run.
 *
 * The stream is paced: the local broker (librdkafka's mock cluster) keeps only ~5 MB per
 * partition, so the producer never runs more than `maxInFlight` events ahead of what is stored;
 * a consumer that fell further behind would lose data to retention and the figure would lie.
 * The pipe's table keeps the top-level fields and skips the nested `features`/`scores` objects,
 * which ClickHouse 18.16's JSONEachRow cannot load into columns: the baseline does strictly less
 * work than driftguard, which validates, splits features into typed columns and dead-letters.
 *
 * Usage: node --import tsx bench/ingest.ts [--events 500000] [--max-in-flight 12000] [--only driftguard|pipe]
 * Last line: {"bench":"ingest","events":N,"driftguard_events_per_s":x,"baseline_events_per_s":y,"ratio":x/y,"driftguard_peak_rss_mb":z}
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '../src/logger.js';
import { findBinary, servicesUp } from '../src/dev-services/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '500000' },
    'max-in-flight': { type: 'string', default: '12000' },
    only: { type: 'string' },
  },
});
const EVENTS = Number(args.events);
const MAX_IN_FLIGHT = Number(args['max-in-flight']);
const CHUNK = 5_000;
/**
 * The heap cap recommended for the daemon in README (NODE_OPTIONS): without one V8 lets the heap
 * grow lazily under a high allocation rate, which inflates peak RSS without being needed.
 */
const NODE_FLAGS = (process.env['BENCH_NODE_FLAGS'] ?? '--max-old-space-size=256').split(' ').filter(Boolean);

const services = await servicesUp({ logger: createLogger('warn') });
const clickhouseUrl = services.clickhouseUrl;
const brokers = services.kafkaBrokers;
const tcpPort = services.env['DRIFTGUARD_CLICKHOUSE_TCP_PORT'];
const run = `bench_${Date.now().toString(36)}`;

function log(message: string): void {
  process.stderr.write(`[bench:ingest] ${message}\n`);
}

async function query(sql: string): Promise<string> {
  const response = await fetch(`${clickhouseUrl}/?query=${encodeURIComponent(sql)}`, { method: 'POST' });
  const text = await response.text();
  if (!response.ok) throw new Error(`ClickHouse: ${text}`);
  return text.trim();
}

/** A realistic event: 10 numeric and 2 categorical features, a label and class scores. */
function event(i: number): string {
  const features: Record<string, number | string> = {};
  for (let f = 0; f < 10; f++)
    features[`num_${f}`] = Math.round(((i * 7919 + f * 104_729) % 100_000) / 7) / 100;
  features['country'] = ['DE', 'FR', 'US', 'GB', 'JP'][i % 5] as string;
  features['device'] = ['ios', 'android', 'web'][i % 3] as string;
  const p = (i % 100) / 100;
  return JSON.stringify({
    model: `model_${i % 4}`,
    version: '3',
    id: `ev-${i}`,
    timestamp: 1_795_399_200_000 + i,
    features,
    prediction: p > 0.5 ? 'fraud' : 'ok',
    scores: { fraud: p, ok: Math.round((1 - p) * 100) / 100 },
  });
}

/** Produces EVENTS events with kcat, never more than MAX_IN_FLIGHT ahead of `stored()`. */
async function producePaced(
  topic: string,
  stored: () => Promise<number>,
  onFirst: () => void,
): Promise<void> {
  log(`producing to ${topic}`);
  const kcat = spawn(
    findBinary('kcat') ?? 'kcat',
    ['-P', '-b', brokers, '-t', topic, '-X', 'linger.ms=5', '-X', 'batch.num.messages=10000'],
    {
      stdio: ['pipe', 'ignore', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => kcat.once('exit', resolve));
  for (let sent = 0; sent < EVENTS;) {
    let done = await stored();
    let lastProgress = Date.now();
    while (sent - done >= MAX_IN_FLIGHT) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      const now = await stored();
      if (now > done) lastProgress = Date.now();
      done = now;
      if (Date.now() - lastProgress > 60_000)
        throw new Error(`no progress for 60 s: ${done} of ${sent} sent events stored (${topic})`);
    }
    const n = Math.min(CHUNK, EVENTS - sent);
    let text = '';
    for (let i = 0; i < n; i++) text += `${event(sent + i)}\n`;
    if (!kcat.stdin.write(text)) await new Promise((resolve) => kcat.stdin.once('drain', resolve));
    if (sent === 0) onFirst();
    sent += n;
    if (process.env.BENCH_DEBUG) log(`sent ${sent}, stored ${done}`);
  }
  kcat.stdin.end();
  if ((await exited) !== 0) throw new Error('kcat producer failed');
}

async function waitUntil(stored: () => Promise<number>, target: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let lastProgress = Date.now();
  for (let now = await stored(); now < target; now = await stored()) {
    if (now > last) [last, lastProgress] = [now, Date.now()];
    if (Date.now() > deadline || Date.now() - lastProgress > 60_000) {
      throw new Error(
        `stalled at ${now} of ${target} stored: a consumer that lags past the broker's retention loses data; lower --max-in-flight`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Peak resident memory (VmHWM) of a process and its children, in MB. */
function peakRssMb(pid: number): number {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    try {
      const children = readFileSync(`/proc/${pids[i]}/task/${pids[i]}/children`, 'utf8').trim();
      if (children) pids.push(...children.split(/\s+/).map(Number));
    } catch {
      // process gone: nothing more to add
    }
  }
  let kb = 0;
  for (const p of pids) {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      kb += Number(match?.[1] ?? 0);
    } catch {
      // exited
    }
  }
  return Math.round((kb / 1024) * 10) / 10;
}

async function benchDriftguard(): Promise<{ eventsPerS: number; peakRssMb: number }> {
  const db = `${run}_dg`;
  const topic = `${run}.dg`;
  const daemon: ChildProcess = spawn(
    process.execPath,
    [...NODE_FLAGS, path.join(root, 'bin', 'driftguard.js'), 'start'],
    {
      cwd: root,
      env: {
        ...process.env,
        ...services.env,
        DRIFTGUARD_CLICKHOUSE_DATABASE: db,
        DRIFTGUARD_TOPIC_PREDICTIONS: topic,
        DRIFTGUARD_TOPIC_OUTCOMES: `${topic}.outcomes`,
        DRIFTGUARD_TOPIC_DEAD_LETTER: `${topic}.dlq`,
        DRIFTGUARD_CONSUMER_GROUP: `${run}-dg`,
        DRIFTGUARD_HTTP_PORT: '0',
        DRIFTGUARD_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  // Ready once the schema exists and the consumer has joined (the table is created at start).
  const stored = async (): Promise<number> =>
    Number(await query(`SELECT count() FROM ${db}.predictions`).catch(() => '0'));
  const deadline = Date.now() + 60_000;
  while (!(await query(`EXISTS TABLE ${db}.predictions`).catch(() => '0')).startsWith('1')) {
    if (Date.now() > deadline) throw new Error('driftguard did not create its tables');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await new Promise((resolve) => setTimeout(resolve, 3_000)); // group join
  let started = 0;
  let seconds: number;
  let rss: number;
  try {
    await producePaced(topic, stored, () => (started = performance.now()));
    await waitUntil(stored, EVENTS, 300_000);
    seconds = (performance.now() - started) / 1000;
    rss = peakRssMb(daemon.pid ?? 0);
  } finally {
    // Never leave a daemon behind, whatever failed.
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
  }
  const visible = Number(await query(`SELECT count() FROM ${db}.predictions FINAL`));
  if (visible !== EVENTS) throw new Error(`driftguard stored ${visible} distinct events, expected ${EVENTS}`);
  await query(`DROP DATABASE ${db}`);
  return { eventsPerS: EVENTS / seconds, peakRssMb: rss };
}

async function benchPipe(): Promise<{ eventsPerS: number; peakRssMb: number }> {
  const db = `${run}_pipe`;
  const topic = `${run}.pipe`;
  await query(`CREATE DATABASE ${db}`);
  await query(
    `CREATE TABLE ${db}.raw (model String, version String, id String, timestamp UInt64, prediction String) ENGINE = MergeTree ORDER BY (model, id)`,
  );
  const kcat = spawn(
    findBinary('kcat') ?? 'kcat',
    ['-C', '-b', brokers, '-t', topic, '-o', 'beginning', '-c', String(EVENTS), '-q', '-u'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const client = spawn(
    findBinary('clickhouse-client') ?? 'clickhouse-client',
    [
      '--port',
      String(tcpPort),
      '--input_format_skip_unknown_fields=1',
      '--max_insert_block_size=5000',
      '--min_insert_block_size_rows=5000',
      '--min_insert_block_size_bytes=1048576',
      '--query',
      `INSERT INTO ${db}.raw FORMAT JSONEachRow`,
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  kcat.stdout?.pipe(client.stdin);
  const clientExit = new Promise<number | null>((resolve) => client.once('exit', resolve));
  const stored = async (): Promise<number> => Number(await query(`SELECT count() FROM ${db}.raw`));
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  let started = 0;
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, peakRssMb(kcat.pid ?? 0) + peakRssMb(client.pid ?? 0));
  }, 200);
  await producePaced(topic, stored, () => (started = performance.now()));
  await waitUntil(stored, EVENTS, 300_000);
  const seconds = (performance.now() - started) / 1000;
  peak = Math.max(peak, peakRssMb(kcat.pid ?? 0) + peakRssMb(client.pid ?? 0));
  clearInterval(sampler);
  if ((await clientExit) !== 0) throw new Error('clickhouse-client failed');
  await query(`DROP DATABASE ${db}`);
  return { eventsPerS: EVENTS / seconds, peakRssMb: peak };
}

log(`${EVENTS} events, at most ${MAX_IN_FLIGHT} in flight; services ${brokers} / ${clickhouseUrl}`);
const skipped = { eventsPerS: Number.NaN, peakRssMb: Number.NaN };
const pipe = args.only === 'driftguard' ? skipped : await benchPipe();
log(`pipe: ${Math.round(pipe.eventsPerS)} events/s, peak RSS ${pipe.peakRssMb} MB`);
const driftguard = args.only === 'pipe' ? skipped : await benchDriftguard();
log(`driftguard: ${Math.round(driftguard.eventsPerS)} events/s, peak RSS ${driftguard.peakRssMb} MB`);
const result = {
  bench: 'ingest',
  events: EVENTS,
  driftguard_events_per_s: Math.round(driftguard.eventsPerS),
  baseline_events_per_s: Math.round(pipe.eventsPerS),
  ratio: Math.round((driftguard.eventsPerS / pipe.eventsPerS) * 1000) / 1000,
  driftguard_peak_rss_mb: driftguard.peakRssMb,
  baseline_peak_rss_mb: pipe.peakRssMb,
  max_in_flight: MAX_IN_FLIGHT,
  driftguard_node_flags: NODE_FLAGS.join(' '),
  targets: { events_per_s: 50_000, ratio: 0.5, peak_rss_mb: 300 },
};
process.stdout.write(`${JSON.stringify(result)}\n`);
