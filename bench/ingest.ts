/**
 * `npm run bench:ingest`: sustained ingest rate and peak memory of driftguard, storing in the
 * ClickHouse server and in its embedded engine, against the bare pipe
 * `kcat -C | clickhouse-client INSERT ... FORMAT JSONEachRow` (no validation), on the same stream,
 * services and machine, in the same run.
 *
 * The stream is generated once, before anything is timed, and both paths get the same bytes, spread
 * over `--topics` topics of 4 partitions each (the local broker creates no topic with more).
 * It is paced: the local broker (librdkafka's mock cluster) keeps only ~5 MB per partition, so the
 * producers never run more than `--max-in-flight` events ahead of what ClickHouse holds; a
 * consumer that fell further behind would lose data to retention. After each run the bench proves
 * that it did not: it reads every partition's low watermark (how much retention deleted) and
 * checks that every produced event is stored, once.
 *
 * The pipe's table keeps the top-level fields and skips the nested `features`/`scores` objects,
 * which ClickHouse 18.16's JSONEachRow cannot load into columns: the baseline does strictly less
 * work than driftguard, which validates, splits features into typed columns and dead-letters.
 *
 * driftguard's progress is read from its own `driftguard_ingest_rows_stored_total` (the embedded
 * store cannot be read while the daemon holds it); after each run the stored rows are checked in
 * the store itself (distinct ids, nothing visible twice). For the embedded store, the daemon's
 * CPU includes the engine's; for the server, ClickHouse's CPU is reported beside the daemon's.
 *
 * With `--cluster`, driftguard then ingests the same stream into the local ClickHouse cluster
 * (2 shards × 2 replicas, `dev-services up --cluster`: Distributed tables, synchronous inserts with
 * a quorum of both replicas) and a last line compares it with the single node. On one 2-core
 * machine no speed-up is expected: the figure shows what replication costs.
 *
 * Usage: node --import tsx bench/ingest.ts [--events 500000] [--max-in-flight 40000] [--topics 4]
 *   [--store both|server|embedded] [--only driftguard|pipe] [--cluster] [--rollups on|off|both]
 * Lines before the last: one check per path (retention, stored, CPU seconds), the settings.
 * Last line: {"bench":"ingest","events":N,"driftguard_events_per_s":x,"baseline_events_per_s":y,"ratio":x/y,
 *   "driftguard_peak_rss_mb":z,"embedded_events_per_s":e,"embedded_over_server":e/x,"embedded_peak_rss_mb":m}
 * With --rollups both, the server run (rollups on) is followed by one with rollups off (no ingest
 * ledger): {"bench":"ingest-rollups","rollups_on_events_per_s":a,"rollups_off_events_per_s":b,"cost":1-a/b,…}
 * With --cluster, then: {"bench":"ingest-cluster","events":N,"single_node_events_per_s":x,"cluster_events_per_s":y,"ratio":y/x,…}
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLogger } from '../kernel/logger.js';
import { createKafka } from '../src/kafka/client.js';
import { openEmbeddedStore } from '../src/store/embedded-store.js';
import { DEFAULT_FETCH_MAX_WAIT_MS } from '../src/kafka/ingest-consumer.js';
import { findBinary, servicesUp } from '../src/dev-services/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '500000' },
    'max-in-flight': { type: 'string', default: '40000' },
    topics: { type: 'string', default: '4' },
    only: { type: 'string' },
    store: { type: 'string', default: 'both' },
    cluster: { type: 'boolean', default: false },
    rollups: { type: 'string', default: 'on' },
  },
});
if (!['both', 'server', 'embedded'].includes(args.store))
  throw new Error('--store is both, server or embedded');
const ENGINES = (args.store === 'both' ? ['server', 'embedded'] : [args.store]) as Array<
  'server' | 'embedded'
>;
if (!['on', 'off', 'both'].includes(args.rollups)) throw new Error('--rollups is on, off or both');
type Engine = 'server' | 'embedded' | 'cluster';
const EVENTS = Number(args.events);
const MAX_IN_FLIGHT = Number(args['max-in-flight']);
const TOPICS = Number(args.topics);
/** The mock broker creates every topic with this many partitions. */
const PARTITIONS_PER_TOPIC = 4;
/**
 * How long a consumer's fetch may wait at the broker for data. The mock broker answers an empty
 * fetch only after the whole wait, even when data arrives meanwhile (a real broker answers at
 * once), so the pipe's kcat gets driftguard's wait (fetch.wait.max.ms; librdkafka's default is 500).
 */
const FETCH_MAX_WAIT_MS = DEFAULT_FETCH_MAX_WAIT_MS;
const CHUNK = 5_000;
const POLL_MS = 20;
/**
 * The heap cap recommended for the daemon in README (NODE_OPTIONS): without one V8 lets the heap
 * grow lazily under a high allocation rate, which inflates peak RSS without being needed.
 */
const NODE_FLAGS = (process.env['BENCH_NODE_FLAGS'] ?? '--max-old-space-size=256').split(' ').filter(Boolean);

const services = await servicesUp({ logger: createLogger('warn'), cluster: args.cluster });
const clickhouseUrl = services.clickhouseUrl;
const brokers = services.kafkaBrokers;
const tcpPort = services.env['DRIFTGUARD_CLICKHOUSE_TCP_PORT'];
const run = `bench_${Date.now().toString(36)}`;
const kcatBinary = findBinary('kcat') ?? 'kcat';

function log(message: string): void {
  process.stderr.write(`[bench:ingest] ${message}\n`);
}

async function query(sql: string, url = clickhouseUrl): Promise<string> {
  const response = await fetch(`${url}/?query=${encodeURIComponent(sql)}`, { method: 'POST' });
  const text = await response.text();
  if (!response.ok) throw new Error(`ClickHouse: ${text}`);
  return text.trim();
}

/**
 * Rows in a table, from its parts' metadata: the same figure as `count()` without reading a
 * column, so polling it every few milliseconds costs ClickHouse (which shares the 2 cores) little.
 */
function rowsIn(database: string, table: string): () => Promise<number> {
  const sql = `SELECT sum(rows) FROM system.parts WHERE database = '${database}' AND table = '${table}' AND active`;
  return async () => Number(await query(sql).catch(() => '0'));
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

/** The whole stream, generated before anything is timed: chunks of CHUNK newline-separated events. */
function generateStream(): Buffer[] {
  const chunks: Buffer[] = [];
  for (let start = 0; start < EVENTS; start += CHUNK) {
    let text = '';
    for (let i = start; i < Math.min(start + CHUNK, EVENTS); i++) text += `${event(i)}\n`;
    chunks.push(Buffer.from(text));
  }
  return chunks;
}

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Produces the stream with one kcat per topic (chunk i goes to topic i mod TOPICS), never more than
 * MAX_IN_FLIGHT events ahead of `stored()`.
 */
async function producePaced(
  stream: readonly Buffer[],
  topics: readonly string[],
  stored: () => Promise<number>,
  onFirst: () => void,
): Promise<void> {
  log(`producing to ${topics.join(', ')}`);
  const producers = topics.map((topic) => {
    const kcat = spawn(
      kcatBinary,
      ['-P', '-b', brokers, '-t', topic, '-X', 'linger.ms=5', '-X', 'batch.num.messages=10000'],
      { stdio: ['pipe', 'ignore', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolve) => kcat.once('exit', resolve));
    return { kcat, exited };
  });
  let sent = 0;
  for (const [index, chunk] of stream.entries()) {
    let done = await stored();
    let lastProgress = Date.now();
    while (sent - done >= MAX_IN_FLIGHT) {
      await sleep(POLL_MS);
      const now = await stored();
      if (now > done) lastProgress = Date.now();
      done = now;
      if (Date.now() - lastProgress > 60_000)
        throw new Error(`no progress for 60 s: ${done} of ${sent} sent events stored`);
    }
    const { kcat } = producers[index % producers.length] as (typeof producers)[number];
    if (!kcat.stdin?.write(chunk)) await new Promise((resolve) => kcat.stdin?.once('drain', resolve));
    if (index === 0) onFirst();
    sent += Math.min(CHUNK, EVENTS - index * CHUNK);
    if (process.env['BENCH_DEBUG']) log(`sent ${sent}, stored ${done}`);
  }
  for (const { kcat } of producers) kcat.stdin?.end();
  for (const { exited } of producers) if ((await exited) !== 0) throw new Error('kcat producer failed');
}

async function waitUntil(stored: () => Promise<number>, target: number): Promise<void> {
  let last = -1;
  let lastProgress = Date.now();
  for (let now = await stored(); now < target; now = await stored()) {
    if (now > last) [last, lastProgress] = [now, Date.now()];
    if (Date.now() - lastProgress > 60_000) {
      throw new Error(
        `stalled at ${now} of ${target} stored: a consumer that lags past the broker's retention loses data; lower --max-in-flight`,
      );
    }
    await sleep(POLL_MS);
  }
}

/** Creates the topics (a metadata request with auto-creation) so consumers can join before the clock starts. */
async function createTopics(topics: readonly string[]): Promise<void> {
  const admin = createKafka({ clientId: 'bench-ingest', brokers: [brokers] }, createLogger('warn')).admin();
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.fetchTopicMetadata({ topics: [...topics] });
        return;
      } catch (error) {
        if (attempt >= 20) throw error;
        await sleep(250);
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/** Retention's trace on the topics: how many of the produced events the broker has already deleted. */
async function retentionReport(
  topics: readonly string[],
): Promise<{ partitions: number; deleted: number; trimmed: number; high: number }> {
  const admin = createKafka({ clientId: 'bench-ingest', brokers: [brokers] }, createLogger('warn')).admin();
  await admin.connect();
  try {
    let partitions = 0;
    let deleted = 0;
    let trimmed = 0;
    let high = 0;
    for (const topic of topics) {
      for (const offsets of await admin.fetchTopicOffsets(topic)) {
        partitions++;
        deleted += Number(offsets.low);
        high += Number(offsets.high);
        if (Number(offsets.low) > 0) trimmed++;
      }
    }
    return { partitions, deleted, trimmed, high };
  } finally {
    await admin.disconnect();
  }
}

interface PathResult {
  eventsPerS: number;
  peakRssMb: number;
  check: Record<string, unknown>;
}

/**
 * Resolves when a line of `stream` matches. The stream keeps being read afterwards (a full pipe
 * would block the child); lines that `forward` accepts are copied to stderr.
 */
function waitForLine(
  stream: NodeJS.ReadableStream,
  match: (line: string) => boolean,
  forward: (line: string) => boolean,
  what: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not happen within 60 s`)), 60_000);
    createInterface({ input: stream }).on('line', (line) => {
      if (forward(line)) process.stderr.write(`${line}\n`);
      if (match(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

/** Rows the daemon has stored, from its own counter (one scrape of /metrics). */
function rowsStoredBy(daemonUrl: () => string): () => Promise<number> {
  return async () => {
    const text = await fetch(`${daemonUrl()}/metrics`)
      .then((response) => response.text())
      .catch(() => '');
    const line = /^driftguard_ingest_rows_stored_total\{table="predictions"\} (\d+)/m.exec(text);
    return Number(line?.[1] ?? 0);
  };
}

/** The local cluster, when the bench runs with --cluster. */
const cluster = services.cluster;

/** The daemon's `DRIFTGUARD_*` overrides that point it at the engine's ClickHouse. */
function engineEnv(engine: Engine): Record<string, string> {
  if (engine !== 'cluster' || cluster === undefined) return {};
  return { DRIFTGUARD_CLICKHOUSE_URL: cluster.clickhouseUrl, DRIFTGUARD_CLICKHOUSE_CLUSTER: cluster.cluster };
}

/** The ClickHouse server processes whose CPU an engine uses (none for embedded: the daemon's). */
function enginePids(engine: Engine): number[] {
  if (engine === 'embedded') return [];
  if (engine === 'cluster')
    return (cluster?.processes ?? []).filter((p) => p.name !== 'zookeeper').map((p) => p.pid);
  return [services.services.clickhouse.pid];
}

/** Distinct ids and rows visible after replays collapse, read from the store the daemon used. */
async function storedCheck(
  engine: Engine,
  db: string,
  storePath: string,
): Promise<{ visible: number; ids: number }> {
  const sql = (table: string): string =>
    `SELECT (SELECT count() FROM ${db}.${table} FINAL) AS visible, (SELECT uniqExact(id) FROM ${db}.${table}) AS ids`;
  if (engine !== 'embedded') {
    const url = engine === 'cluster' && cluster !== undefined ? cluster.clickhouseUrl : clickhouseUrl;
    const onCluster = engine === 'cluster' && cluster !== undefined ? ` ON CLUSTER ${cluster.cluster}` : '';
    const [visible, ids] = (await query(`${sql('predictions')} FORMAT TSV`, url)).split('\t').map(Number);
    await query(`DROP DATABASE ${db}${onCluster}`, url);
    return { visible: visible ?? 0, ids: ids ?? 0 };
  }
  const store = await openEmbeddedStore({ path: storePath, database: db, sessions: 1 });
  try {
    const [row] = await store.select<{ visible: string; ids: string }>('check', sql('predictions'));
    return { visible: Number(row?.visible), ids: Number(row?.ids) };
  } finally {
    await store.close();
  }
}

async function benchDriftguard(
  stream: readonly Buffer[],
  engine: Engine,
  rollups = args.rollups !== 'off',
): Promise<PathResult> {
  const name = `${engine}${rollups ? '' : '_norollups'}`;
  const db = `${run}_dg_${name}`;
  const topics = Array.from({ length: TOPICS }, (_, i) => `${run}.dg${name}${i}`);
  await createTopics(topics);
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-ingest-'));
  const configFile = path.join(dir, 'driftguard.yaml');
  // Every partition is processed concurrently so that a fetch's batches share one insert.
  await writeFile(
    configFile,
    [
      'store:',
      `  engine: ${engine === 'embedded' ? 'embedded' : 'server'}`,
      `  path: ${JSON.stringify(path.join(dir, 'store'))}`,
      'kafka:',
      '  topics:',
      `    predictions: ${topics[0]}`,
      `    outcomes: ${run}.dg${name}.outcomes`,
      `    deadLetter: ${run}.dg${name}.dlq`,
      '    inputs:',
      ...topics.slice(1).map((topic) => `      - topic: ${topic}`),
      'ingest:',
      `  partitionsConsumedConcurrently: ${TOPICS * PARTITIONS_PER_TOPIC}`,
      'monitoring:',
      '  rollups:',
      `    enabled: ${rollups}`,
      '',
    ].join('\n'),
  );
  const env: Record<string, string | undefined> = { ...process.env, ...services.env, ...engineEnv(engine) };
  for (const name of [
    'DRIFTGUARD_TOPIC_PREDICTIONS',
    'DRIFTGUARD_TOPIC_OUTCOMES',
    'DRIFTGUARD_TOPIC_DEAD_LETTER',
  ])
    delete env[name];
  const daemon: ChildProcess = spawn(
    process.execPath,
    [...NODE_FLAGS, path.join(root, 'bin', 'driftguard.js'), 'start', '--config', configFile],
    {
      cwd: root,
      env: {
        ...env,
        DRIFTGUARD_CLICKHOUSE_DATABASE: db,
        DRIFTGUARD_CONSUMER_GROUP: `${run}-dg-${engine}`,
        DRIFTGUARD_HTTP_PORT: '0',
        DRIFTGUARD_LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let daemonUrl = '';
  const stored = rowsStoredBy(() => daemonUrl);
  let started = 0;
  let seconds: number;
  let rss: number;
  let daemonCpu: number;
  const clickhouseCpuNow = (): number => enginePids(engine).reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const clickhouseCpu0 = clickhouseCpuNow();
  try {
    // Logs are JSON lines on stderr: the clock starts once the consumer has its partitions.
    if (daemon.stderr === null) throw new Error('no daemon stderr');
    await waitForLine(
      daemon.stderr,
      (line) => {
        const port = /"port":(\d+)[^\n]*"msg":"http listening"/.exec(line)?.[1];
        if (port !== undefined) daemonUrl = `http://127.0.0.1:${port}`;
        return line.includes('"joined consumer group"');
      },
      (line) => !line.startsWith('{') || /"level":(40|50|60)/.test(line),
      'driftguard joining its group',
    );
    await sleep(500);
    const cpu0 = cpuSeconds(daemon.pid);
    await producePaced(stream, topics, stored, () => (started = performance.now()));
    await waitUntil(stored, EVENTS);
    // No replay happens without a crash, so the counter reaching EVENTS means every event is in
    // (checked below, in the store).
    seconds = (performance.now() - started) / 1000;
    rss = peakRssMb(daemon.pid ?? 0);
    daemonCpu = cpuSeconds(daemon.pid) - cpu0;
  } finally {
    // Never leave a daemon behind, whatever failed.
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
  }
  const clickhouseCpu = clickhouseCpuNow() - clickhouseCpu0;
  const { visible, ids } = await storedCheck(engine, db, path.join(dir, 'store'));
  await rm(dir, { recursive: true, force: true });
  if (visible !== EVENTS || ids !== EVENTS)
    throw new Error(
      `driftguard (${engine}) stored ${visible} distinct rows (${ids} ids), expected ${EVENTS}`,
    );
  const retention = await retentionReport(topics);
  return {
    eventsPerS: EVENTS / seconds,
    peakRssMb: rss,
    check: {
      stored_distinct: ids,
      lost: EVENTS - ids,
      daemon_cpu_s: round(daemonCpu),
      // The embedded engine's CPU is the daemon's: the server's is what ClickHouse used meanwhile.
      clickhouse_cpu_s: round(clickhouseCpu),
      ...retentionFields(retention),
    },
  };
}

async function benchPipe(stream: readonly Buffer[]): Promise<PathResult> {
  const db = `${run}_pipe`;
  const topics = Array.from({ length: TOPICS }, (_, i) => `${run}.pipe${i}`);
  await createTopics(topics);
  await query(`CREATE DATABASE ${db}`);
  await query(
    `CREATE TABLE ${db}.raw (model String, version String, id String, timestamp UInt64, prediction String) ENGINE = MergeTree ORDER BY (model, id)`,
  );
  // One consumer-group member for all topics, the same shape as driftguard's consumer.
  const kcat = spawn(
    kcatBinary,
    [
      '-C',
      '-b',
      brokers,
      '-G',
      `${run}-pipe`,
      '-o',
      'beginning',
      '-c',
      String(EVENTS),
      '-u',
      '-X',
      'enable.partition.eof=false',
      '-X',
      `fetch.wait.max.ms=${FETCH_MAX_WAIT_MS}`,
      ...topics,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
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
  if (kcat.stdout === null || kcat.stderr === null || client.stdin === null) throw new Error('no pipe');
  kcat.stdout.pipe(client.stdin);
  const clientExit = new Promise<number | null>((resolve) => client.once('exit', resolve));
  const stored = rowsIn(db, 'raw');
  const clickhouseCpu0 = cpuSeconds(services.services.clickhouse.pid ?? undefined);
  await waitForLine(
    kcat.stderr,
    (line) => line.includes('rebalanced') && line.includes('assigned'),
    (line) => !line.startsWith('% '),
    'kcat joining its group',
  );
  await sleep(500);
  let started = 0;
  let peak = 0;
  // Both exit once kcat has read every event, so their figures are sampled while they run.
  const cpu0 = cpuSeconds(kcat.pid) + cpuSeconds(client.pid);
  let pipeCpu = 0;
  const sample = (): void => {
    peak = Math.max(peak, peakRssMb(kcat.pid ?? 0) + peakRssMb(client.pid ?? 0));
    pipeCpu = Math.max(pipeCpu, cpuSeconds(kcat.pid) + cpuSeconds(client.pid) - cpu0);
  };
  const sampler = setInterval(sample, 100);
  try {
    await producePaced(stream, topics, stored, () => (started = performance.now()));
    await waitUntil(stored, EVENTS);
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  sample();
  if ((await clientExit) !== 0) throw new Error('clickhouse-client failed');
  const clickhouseCpu = cpuSeconds(services.services.clickhouse.pid ?? undefined) - clickhouseCpu0;
  const ids = Number(await query(`SELECT uniqExact(id) FROM ${db}.raw`));
  if (ids !== EVENTS) throw new Error(`the pipe stored ${ids} distinct events, expected ${EVENTS}`);
  const retention = await retentionReport(topics);
  await query(`DROP DATABASE ${db}`);
  return {
    eventsPerS: EVENTS / seconds,
    peakRssMb: round(peak, 1),
    check: {
      stored_distinct: ids,
      lost: EVENTS - ids,
      peak_rss_mb: round(peak, 1),
      pipe_cpu_s: round(pipeCpu),
      clickhouse_cpu_s: round(clickhouseCpu),
      ...retentionFields(retention),
    },
  };
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function retentionFields(r: {
  partitions: number;
  deleted: number;
  trimmed: number;
  high: number;
}): Record<string, number> {
  return {
    partitions: r.partitions,
    produced: r.high,
    deleted_by_retention: r.deleted,
    partitions_trimmed: r.trimmed,
  };
}

log(
  `${EVENTS} events over ${TOPICS} topics × ${PARTITIONS_PER_TOPIC} partitions, at most ${MAX_IN_FLIGHT} in flight; services ${brokers} / ${clickhouseUrl}`,
);
const stream = generateStream();
const skipped: PathResult = { eventsPerS: Number.NaN, peakRssMb: Number.NaN, check: {} };
const pipe = args.only === 'driftguard' ? skipped : await benchPipe(stream);
if (args.only !== 'driftguard') {
  log(`pipe: ${Math.round(pipe.eventsPerS)} events/s, peak RSS ${pipe.peakRssMb} MB`);
  process.stdout.write(`${JSON.stringify({ bench: 'ingest-check', path: 'pipe', ...pipe.check })}\n`);
}
const results = new Map<Engine, PathResult>();
const engines: Engine[] = [...ENGINES, ...(cluster !== undefined ? (['cluster'] as const) : [])];
for (const engine of args.only === 'pipe' ? [] : engines) {
  const result = await benchDriftguard(stream, engine);
  results.set(engine, result);
  log(
    `driftguard (${engine} store): ${Math.round(result.eventsPerS)} events/s, peak RSS ${result.peakRssMb} MB`,
  );
  process.stdout.write(
    `${JSON.stringify({ bench: 'ingest-check', path: `driftguard-${engine}`, ...result.check })}\n`,
  );
}
const driftguard = results.get('server') ?? skipped;
const embedded = results.get('embedded') ?? skipped;
process.stdout.write(
  `${JSON.stringify({
    bench: 'ingest-settings',
    topics: TOPICS,
    partitions: TOPICS * PARTITIONS_PER_TOPIC,
    max_in_flight: MAX_IN_FLIGHT,
    fetch_max_wait_ms: FETCH_MAX_WAIT_MS,
    driftguard_node_flags: NODE_FLAGS.join(' '),
    rollups: args.rollups,
    targets: { events_per_s: 50_000, ratio: 1.0, peak_rss_mb: 300, embedded_over_server: 0.8 },
  })}\n`,
);
process.stdout.write(
  `${JSON.stringify({
    bench: 'ingest',
    events: EVENTS,
    driftguard_events_per_s: Math.round(driftguard.eventsPerS),
    baseline_events_per_s: Math.round(pipe.eventsPerS),
    ratio: Math.round((driftguard.eventsPerS / pipe.eventsPerS) * 1000) / 1000,
    driftguard_peak_rss_mb: driftguard.peakRssMb,
    embedded_events_per_s: Math.round(embedded.eventsPerS),
    embedded_over_server: Math.round((embedded.eventsPerS / driftguard.eventsPerS) * 1000) / 1000,
    embedded_peak_rss_mb: embedded.peakRssMb,
  })}\n`,
);
if (args.rollups === 'both' && args.only !== 'pipe') {
  // The same stream again on the server with rollups off: what the ingest ledger costs.
  const off = await benchDriftguard(stream, 'server', false);
  log(`driftguard (server store, rollups off): ${Math.round(off.eventsPerS)} events/s`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'ingest-check', path: 'driftguard-server-rollups-off', ...off.check })}\n`,
  );
  process.stdout.write(
    `${JSON.stringify({
      bench: 'ingest-rollups',
      events: EVENTS,
      rollups_on_events_per_s: Math.round(driftguard.eventsPerS),
      rollups_off_events_per_s: Math.round(off.eventsPerS),
      cost: Math.round((1 - driftguard.eventsPerS / off.eventsPerS) * 1000) / 1000,
      rollups_on_daemon_cpu_s: driftguard.check['daemon_cpu_s'],
      rollups_off_daemon_cpu_s: off.check['daemon_cpu_s'],
      target_cost: 0.15,
    })}\n`,
  );
}
const onCluster = results.get('cluster');
if (onCluster !== undefined) {
  process.stdout.write(
    `${JSON.stringify({
      bench: 'ingest-cluster',
      events: EVENTS,
      shards: 2,
      replicas_per_shard: 2,
      single_node_events_per_s: Math.round(driftguard.eventsPerS),
      cluster_events_per_s: Math.round(onCluster.eventsPerS),
      ratio: Math.round((onCluster.eventsPerS / driftguard.eventsPerS) * 1000) / 1000,
      single_node_clickhouse_cpu_s: driftguard.check['clickhouse_cpu_s'],
      cluster_clickhouse_cpu_s: onCluster.check['clickhouse_cpu_s'],
      cluster_peak_rss_mb: onCluster.peakRssMb,
    })}\n`,
  );
}
