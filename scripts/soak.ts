/**
 * Soak: a real `driftguard start` (run with --max-old-space-size=256, as README recommends) takes
 * a steady stream of mixed valid and hostile traffic over Kafka (kcat) and HTTP for --minutes,
 * and its private ClickHouse is killed and restarted in the middle. HTTP clients resend what was
 * answered 429 or 5xx, as a client should. At the end every valid event must be stored.
 *
 *   npx driftguard dev-services up                      # the Kafka broker (kcat) and ClickHouse
 *   node --import tsx scripts/soak.ts [--minutes 10] [--rate 200] [--outage-s 20]
 *
 * Prints one JSON object: traffic sent, events lost (must be 0), dead letters per code (Kafka)
 * and rejections per code (HTTP), RSS over time, and what the daemon reported during the outage.
 * Exits 1 when an event was lost or the daemon died.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { endpointsFromEnv, parseEnvFile, servicesLayout } from '../src/dev-services/index.js';
import { clickhouseQuery } from '../test/support/clickhouse.js';
import { DaemonProcess } from '../test/support/daemon-process.js';
import { kcatConsume, kcatProduce, type KcatMessage } from '../test/support/kcat.js';
import { uniqueName } from '../test/support/names.js';
import { PrivateClickHouse } from '../test/support/private-clickhouse.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '200' },
    'outage-s': { type: 'string', default: '20' },
    'http-share': { type: 'string', default: '0.3' },
    'hostile-share': { type: 'string', default: '0.1' },
  },
});
const minutes = Number(args.minutes);
const rate = Number(args.rate);
const outageS = Number(args['outage-s']);
const httpShare = Number(args['http-share']);
const hostileShare = Number(args['hostile-share']);
const TOKEN = 'soak-token-0123456789abcdef';
const TICK_MS = 1_000;
/** ingest.maxEventBytes of the soaked daemon: oversized records stay under the broker's 1 MB limit. */
const MAX_EVENT_BYTES = 16_384;

const services = endpointsFromEnv(parseEnvFile(readFileSync(servicesLayout().envFile, 'utf8')));
const brokers = services.kafkaBrokers;

/** Hostile records, one per kind, each with the code it must be refused with. */
const HOSTILE: ReadonlyArray<{ code: string; kafkaOnly?: boolean; make: (n: number) => Buffer | string }> = [
  {
    code: 'bad_text',
    make: (n) => `{"model":"soak","id":"bad-${n}","features":{"s":"\\ud800x"},"prediction":1}`,
  },
  { code: 'bad_text', make: (n) => `{"model":"soak","id":"bad-${n}\\u0000","features":{"x":1}}` },
  {
    code: 'bad_text',
    kafkaOnly: true,
    make: (n) =>
      Buffer.concat([
        Buffer.from(`{"model":"soak","id":"bad-${n}","features":{"s":"`),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}}'),
      ]),
  },
  {
    code: 'too_deep',
    make: (n) => `{"model":"soak","id":"bad-${n}","x":${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
  },
  {
    code: 'bad_timestamp',
    make: (n) => JSON.stringify({ model: 'soak', id: `bad-${n}`, timestamp: '2500-01-01T00:00:00Z' }),
  },
  {
    code: 'bad_timestamp',
    make: (n) => JSON.stringify({ model: 'soak', id: `bad-${n}`, timestamp: 32_503_680_000_000 }),
  },
  { code: 'bad_model_name', make: (n) => JSON.stringify({ model: '..', id: `bad-${n}` }) },
  { code: 'not_json', make: (n) => `{"model":"soak","id":"bad-${n}"` },
  {
    code: 'oversized',
    make: (n) => JSON.stringify({ model: 'soak', id: `bad-${n}`, pad: 'x'.repeat(MAX_EVENT_BYTES) }),
  },
  { code: 'non_finite_number', make: (n) => `{"model":"soak","id":"bad-${n}","features":{"x":1e999}}` },
];

const sent = { kafka: { valid: 0, hostile: 0 }, http: { valid: 0, hostile: 0 } };
const httpRejected: Record<string, number> = {};
const httpAnswers: Record<string, number> = {};
let hostileCounter = 0;
let nextId = 0;

function validEvent(transport: 'k' | 'h'): string {
  const i = nextId++;
  // Valid but not plain: unicode, NUL inside a category, a BOM'd string, RTL text, extra fields.
  const odd = i % 10 === 0;
  return JSON.stringify({
    model: 'soak',
    id: `${transport}-${i}`,
    timestamp: Date.now(),
    features: {
      x: i % 1000,
      y: (i % 37) / 7,
      c: odd
        ? ['\u05e9\u05dc\u05d5\u05dd', 'a\u0000b', '\ufeffbom', '\ud83d\ude00'][i % 4]
        : ['DE', 'FR', 'US'][i % 3],
    },
    prediction: i % 3 === 0 ? 'fraud' : 'ok',
    scores: { fraud: (i % 100) / 100, ok: 1 - (i % 100) / 100 },
    ...(odd ? { tenant: { nested: [1, { deeper: true }] } } : {}),
  });
}

function hostile(kafka: boolean): { value: Buffer | string; code: string } {
  for (;;) {
    const kind = HOSTILE[hostileCounter++ % HOSTILE.length] as (typeof HOSTILE)[number];
    if (kind.kafkaOnly === true && !kafka) continue;
    return { value: kind.make(hostileCounter), code: kind.code };
  }
}

async function produceTick(count: number): Promise<void> {
  const messages: KcatMessage[] = [];
  for (let i = 0; i < count; i++) {
    if (Math.random() < hostileShare) {
      messages.push({ value: hostile(true).value });
      sent.kafka.hostile++;
    } else {
      messages.push({ value: validEvent('k') });
      sent.kafka.valid++;
    }
  }
  await kcatProduce(brokers, topics.predictions, messages);
}

/** Posts one NDJSON body, resending it while it is answered 429 or 5xx (a well-behaved client). */
async function postTick(daemon: DaemonProcess, count: number): Promise<void> {
  const lines: Buffer[] = [];
  let valid = 0;
  for (let i = 0; i < count; i++) {
    if (Math.random() < hostileShare) {
      const { value } = hostile(false);
      lines.push(Buffer.from(value));
    } else {
      lines.push(Buffer.from(validEvent('h')));
      valid++;
    }
  }
  const body = Buffer.concat(lines.flatMap((line, i) => (i === 0 ? [line] : [Buffer.from('\n'), line])));
  for (let attempt = 0; ; attempt++) {
    let status = 0;
    let text = '';
    try {
      const response = await fetch(`${daemon.url}/v1/predictions`, {
        method: 'POST',
        body,
        headers: { authorization: `Bearer ${TOKEN}` },
        signal: AbortSignal.timeout(60_000),
      });
      status = response.status;
      text = await response.text();
    } catch {
      status = -1;
    }
    httpAnswers[String(status)] = (httpAnswers[String(status)] ?? 0) + 1;
    if (status === 200 || status === 400) {
      const result = JSON.parse(text) as {
        rejected?: Array<{ code: string }>;
        error?: { details?: { rejected?: Array<{ code: string }> } };
      };
      for (const r of result.rejected ?? result.error?.details?.rejected ?? [])
        httpRejected[r.code] = (httpRejected[r.code] ?? 0) + 1;
      sent.http.valid += valid;
      sent.http.hostile += count - valid;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** attempt)));
  }
}

async function scrape(daemon: DaemonProcess): Promise<string> {
  try {
    return await (await fetch(`${daemon.url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  } catch {
    return '';
  }
}

function metric(text: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return match === null ? Number.NaN : Number(match[1]);
}

async function storedIds(url: string, db: string): Promise<{ kafka: number; http: number }> {
  const rows = await clickhouseQuery<{ k: string; h: string }>(
    url,
    `SELECT uniqExactIf(id, startsWith(id, 'k-')) AS k, uniqExactIf(id, startsWith(id, 'h-')) AS h FROM ${db}.predictions`,
  );
  return { kafka: Number(rows[0]?.k ?? 0), http: Number(rows[0]?.h ?? 0) };
}

const name = uniqueName('soak');
const topics = { predictions: `${name}.p`, deadLetter: `${name}.dlq` };

async function main(): Promise<number> {
  const started = Date.now();
  const clickhouse = await PrivateClickHouse.create();
  const dir = await mkdtemp(path.join(tmpdir(), 'driftguard-soak-'));
  const configFile = path.join(dir, 'driftguard.yaml');
  await writeFile(configFile, `ingest: { maxEventBytes: ${MAX_EVENT_BYTES} }\n`);
  const daemon = await DaemonProcess.start(
    {
      DRIFTGUARD_KAFKA_BROKERS: brokers,
      DRIFTGUARD_CLICKHOUSE_URL: clickhouse.url,
      DRIFTGUARD_CLICKHOUSE_DATABASE: name,
      DRIFTGUARD_TOPIC_PREDICTIONS: topics.predictions,
      DRIFTGUARD_TOPIC_OUTCOMES: `${name}.o`,
      DRIFTGUARD_TOPIC_DEAD_LETTER: topics.deadLetter,
      DRIFTGUARD_CONSUMER_GROUP: `${name}-group`,
      DRIFTGUARD_API_TOKEN: TOKEN,
      NODE_OPTIONS: '--max-old-space-size=256',
    },
    ['--config', configFile],
  );
  const rss: Array<{ atS: number; rssMb: number; heapMb: number }> = [];
  const outage: { startAtS?: number; endAtS?: number; readyzDuring?: string; storeRetries?: number } = {};
  const durationMs = minutes * 60_000;
  const outageAtMs = durationMs / 2;
  let nextSample = 0;
  let outageDone = false;
  const inFlight = new Set<Promise<void>>();
  const track = (work: Promise<void>): void => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  let died = false;
  void daemon.exited.then(() => {
    died = true;
  });
  const t0 = Date.now();
  for (let tick = 0; Date.now() - t0 < durationMs && !died; tick++) {
    const elapsed = Date.now() - t0;
    const kafkaCount = Math.round(rate * (1 - httpShare));
    track(produceTick(kafkaCount));
    track(postTick(daemon, Math.round(rate * httpShare)));
    if (elapsed >= nextSample) {
      const text = await scrape(daemon);
      rss.push({
        atS: Math.round(elapsed / 1000),
        rssMb: Math.round(metric(text, 'driftguard_process_resident_memory_bytes') / 1e6),
        heapMb: Math.round(metric(text, 'driftguard_nodejs_heap_size_used_bytes') / 1e6),
      });
      nextSample += 15_000;
    }
    if (!outageDone && elapsed >= outageAtMs) {
      outageDone = true;
      track(
        (async () => {
          outage.startAtS = Math.round((Date.now() - t0) / 1000);
          await clickhouse.stop();
          await new Promise((resolve) => setTimeout(resolve, outageS * 500));
          const ready = await fetch(`${daemon.url}/readyz`).catch(() => undefined);
          outage.readyzDuring = `${ready?.status ?? 'no answer'} ${ready === undefined ? '' : (await ready.text()).slice(0, 300)}`;
          await new Promise((resolve) => setTimeout(resolve, outageS * 500));
          await clickhouse.start();
          outage.endAtS = Math.round((Date.now() - t0) / 1000);
        })(),
      );
    }
    const next = t0 + (tick + 1) * TICK_MS;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())));
  }
  await Promise.all(inFlight);
  const expected = { kafka: sent.kafka.valid, http: sent.http.valid };
  let stored = { kafka: 0, http: 0 };
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline && !died) {
    stored = await storedIds(clickhouse.url, name).catch(() => stored);
    if (stored.kafka >= expected.kafka && stored.http >= expected.http) break;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  const metrics = await scrape(daemon);
  outage.storeRetries = metric(metrics, 'driftguard_store_retries_total');
  // What the daemon dead-lettered, by code (its counter), and what the topic still holds: the local
  // broker keeps ~5 MB per partition, so a long soak's oldest dead letters are gone from it.
  const deadByCode: Record<string, number> = {};
  for (const match of metrics.matchAll(
    new RegExp(
      `^driftguard_dead_lettered_total\\{topic="${topics.predictions.replace(/\./g, '\\.')}",code="([a-z_]+)"\\} (\\d+)$`,
      'gm',
    ),
  ))
    deadByCode[match[1] as string] = Number(match[2]);
  const deadLettered = Object.values(deadByCode).reduce((sum, n) => sum + n, 0);
  const deadLetters = await kcatConsume(brokers, topics.deadLetter, { timeoutMs: 60_000 });
  const lost = Math.max(0, expected.kafka - stored.kafka) + Math.max(0, expected.http - stored.http);
  const problems = [
    ...(lost > 0 ? [`${lost} valid events were not stored`] : []),
    ...(died ? ['the daemon died'] : []),
    ...(deadLettered !== sent.kafka.hostile
      ? [`${deadLettered} records dead-lettered for ${sent.kafka.hostile} hostile Kafka records`]
      : []),
    ...(deadByCode['store_rejected'] !== undefined ? ['the store refused records the validator passed'] : []),
  ];
  const report = {
    script: 'soak',
    ok: problems.length === 0,
    problems,
    minutes,
    ratePerS: rate,
    httpShare,
    hostileShare,
    seconds: Math.round((Date.now() - started) / 1000),
    daemonDied: died,
    sent,
    storedDistinct: stored,
    eventsLost: lost,
    kafkaDeadLetteredByCode: deadByCode,
    kafkaHostileSent: sent.kafka.hostile,
    kafkaDeadLettered: deadLettered,
    deadLetterTopicHolds: deadLetters.length,
    httpRejectedByCode: httpRejected,
    httpAnswers,
    clickhouseOutage: { ...outage, downForS: outageS },
    consumerRestarts: metric(metrics, 'driftguard_consumer_restarts_total'),
    peakRssMb: Math.max(...rss.map((r) => r.rssMb)),
    rss,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  await daemon.dispose();
  await clickhouse.dispose();
  await rm(dir, { recursive: true, force: true });
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
