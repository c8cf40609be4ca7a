import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { servicesUp, type ServicesInfo } from '../dev-services/index.js';
import { createLogger } from '../logger.js';
import { DemoReceiver } from './receiver.js';
import { etaEvent, fraudEvent, seededRandom, type DemoEvent } from './traffic.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEMO_TOKEN = 'demo-token-not-for-production-0001';

export interface DemoOptions {
  keep?: boolean;
  quick?: boolean;
  json?: boolean;
}

interface DemoTimings {
  /** Events per second per model. */
  rate: number;
  /** Stationary traffic before drift is injected. */
  stationaryMs: number;
  /** Drifted traffic: long enough for windows to fill and the alert to fire. */
  driftMs: number;
  /** How late outcomes arrive. */
  labelDelayMs: number;
}

const say = (line: string): void => {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)}  ${line}\n`);
};

/** `driftguard demo`: the whole story on local services, narrated as it happens. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Run driftguard end to end on local services: ingest, drift, alert, retune, decision')
    .option('--keep', 'leave services and the daemon running afterwards')
    .option('--quick', 'a shorter run (used by the end-to-end test)')
    .action(async (options: DemoOptions) => {
      const summary = await runDemo(options);
      process.stdout.write(`\n${JSON.stringify(summary)}\n`);
      if (!summary.ok) process.exitCode = 1;
    });
}

export interface DemoSummary {
  ok: boolean;
  events: { predictions: number; outcomes: number; invalid: number };
  stored: { predictions: number; outcomes: number };
  deadLettered: number;
  outputDir: string;
  daemonUrl: string;
}

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const timings: DemoTimings = options.quick
    ? { rate: 40, stationaryMs: 20_000, driftMs: 40_000, labelDelayMs: 2_000 }
    : { rate: 60, stationaryMs: 45_000, driftMs: 90_000, labelDelayMs: 5_000 };
  const outputDir = path.join(repoRoot, '.driftguard', 'demo');
  await mkdir(outputDir, { recursive: true });

  say('1/5 starting local services (ClickHouse, a Kafka-protocol broker, Prometheus)…');
  const services = await servicesUp({ logger: createLogger('warn') });
  say(
    `    Kafka ${services.kafkaBrokers}   ClickHouse ${services.clickhouseUrl}   Prometheus ${services.prometheusUrl}`,
  );

  const receiverSecret = 'demo-webhook-secret-0123456789';
  const receiver = new DemoReceiver(receiverSecret);
  const receiverUrl = await receiver.listen();
  receiver.onAlert = (alert) => {
    const what =
      alert.body.alerts?.map((a) => `${a.severity ?? ''} ${a.rule ?? ''}`).join(', ') ??
      alert.body.summary ??
      '';
    say(
      `    ✉ webhook received (${alert.signatureValid ? 'signature valid' : 'BAD SIGNATURE'}): ${alert.body.status ?? alert.body.kind ?? ''} ${alert.body.model ?? ''} ${what}`,
    );
  };

  const run = Date.now().toString(36);
  const database = 'driftguard_demo';
  const topics = {
    predictions: `demo.${run}.predictions`,
    outcomes: `demo.${run}.outcomes`,
    deadLetter: `demo.${run}.dead-letter`,
  };
  const configFile = path.join(outputDir, 'driftguard.yaml');
  await writeFile(configFile, demoConfig({ database, topics, receiverUrl, receiverSecret, outputDir }));

  say('2/5 starting the daemon with a demo config for two models (fraud: classifier, eta: regression)…');
  const daemon = await startDaemon(services, configFile, path.join(outputDir, 'daemon.log'));
  const api = `http://127.0.0.1:${daemon.port}`;
  say(`    daemon up at ${api} (log: .driftguard/demo/daemon.log)`);

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
  const counts = { predictions: 0, outcomes: 0, invalid: 0 };
  let ok = true;
  try {
    say(
      `3/5 replaying traffic: ${timings.rate} predictions/s per model, outcomes ${timings.labelDelayMs / 1000}s later…`,
    );
    await sendTraffic(producer, topics, timings, counts, (phase) => say(phase));
    const stored = await waitForStored(services.clickhouseUrl, database, counts);
    const deadLettered = await metricValue(api, 'driftguard_dead_lettered_total');
    say(
      `4/5 stored ${stored.predictions} predictions and ${stored.outcomes} outcomes; ${deadLettered} invalid records dead-lettered with their reasons`,
    );
    ok =
      stored.predictions === counts.predictions &&
      stored.outcomes === counts.outcomes &&
      deadLettered === counts.invalid;
    say('5/5 done. Look around:');
    say(
      `    ClickHouse:  curl '${services.clickhouseUrl}/?query=SELECT+model,count()+FROM+${database}.predictions+FINAL+GROUP+BY+model'`,
    );
    say(`    metrics:     curl ${api}/metrics`);
    say(`    dead letters: kcat -C -b ${services.kafkaBrokers} -t ${topics.deadLetter} -e -f '%h %s\\n'`);
    return { ok, events: counts, stored, deadLettered, outputDir, daemonUrl: api };
  } finally {
    await producer.disconnect();
    await receiver.close();
    if (options.keep) {
      say(
        `--keep: the daemon (pid ${daemon.process.pid}) and services stay up; stop with: kill ${daemon.process.pid}; npx driftguard dev-services down`,
      );
      daemon.process.unref();
    } else {
      daemon.process.kill('SIGTERM');
      await new Promise((resolve) => daemon.process.once('exit', resolve));
      await fetch(
        `${services.clickhouseUrl}/?query=${encodeURIComponent(`DROP DATABASE IF EXISTS ${database}`)}`,
        { method: 'POST' },
      );
    }
  }
}

function demoConfig(input: {
  database: string;
  topics: Record<'predictions' | 'outcomes' | 'deadLetter', string>;
  receiverUrl: string;
  receiverSecret: string;
  outputDir: string;
}): string {
  return `# Written by \`driftguard demo\`.
clickhouse:
  database: ${input.database}
kafka:
  consumerGroup: driftguard-demo
  topics:
    predictions: ${input.topics.predictions}
    outcomes: ${input.topics.outcomes}
    deadLetter: ${input.topics.deadLetter}
http:
  port: 0
  apiToken: ${DEMO_TOKEN}
alerts:
  sinks:
    - type: webhook
      name: demo-receiver
      url: ${input.receiverUrl}
      secret: ${input.receiverSecret}
`;
}

async function startDaemon(
  services: ServicesInfo,
  configFile: string,
  logFile: string,
): Promise<{ process: ChildProcess; port: number }> {
  const { createWriteStream } = await import('node:fs');
  const log = createWriteStream(logFile);
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'bin', 'driftguard.js'), 'start', '--config', configFile],
    {
      cwd: repoRoot,
      env: { ...process.env, ...services.env, DRIFTGUARD_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let buffer = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the daemon did not start within 90 s; see ${logFile}`)),
      90_000,
    );
    const onData = (chunk: Buffer): void => {
      log.write(chunk);
      buffer += chunk.toString('utf8');
      const port = /"msg":"http listening"/.test(buffer)
        ? /"port":(\d+)[^\n]*"msg":"http listening"/.exec(buffer)?.[1]
        : undefined;
      if (port !== undefined && /"to":"running"/.test(buffer)) {
        clearTimeout(timer);
        buffer = '';
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        child.stdout?.on('data', (c: Buffer) => log.write(c));
        child.stderr?.on('data', (c: Buffer) => log.write(c));
        resolve({ process: child, port: Number(port) });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the daemon exited with code ${code} during start; see ${logFile}`));
    });
  });
}

async function sendTraffic(
  producer: Producer,
  topics: Record<'predictions' | 'outcomes' | 'deadLetter', string>,
  timings: DemoTimings,
  counts: { predictions: number; outcomes: number; invalid: number },
  announce: (line: string) => void,
): Promise<void> {
  const random = seededRandom(7);
  const pendingOutcomes: Array<{ dueMs: number; value: string }> = [];
  const start = Date.now();
  const end = start + timings.stationaryMs + timings.driftMs;
  let i = 0;
  let drifted = false;
  let lastReport = start;
  // A few malformed records, as real producers send: they are dead-lettered with a reason.
  const invalid = [
    '{"model":"fraud"',
    JSON.stringify({ model: 'fraud', id: 'bad-1', features: { amount: 'NaN?', hour: [1] } }),
    JSON.stringify({ id: 'no-model' }),
  ];
  await producer.send({ topic: topics.predictions, messages: invalid.map((value) => ({ value })) });
  counts.invalid += invalid.length;
  while (Date.now() < end) {
    const tickStart = Date.now();
    if (!drifted && tickStart - start >= timings.stationaryMs) {
      drifted = true;
      announce(
        '    ⚡ injecting drift into model "fraud": larger amounts, a new country mix, and a new fraud pattern the model never learnt',
      );
    }
    const batch: DemoEvent[] = [];
    for (let k = 0; k < timings.rate / 4; k++, i++) {
      batch.push(fraudEvent(random, i, tickStart, drifted));
      batch.push(etaEvent(random, i, tickStart));
    }
    await producer.send({
      topic: topics.predictions,
      messages: batch.map((event) => ({ value: JSON.stringify(event.prediction) })),
    });
    counts.predictions += batch.length;
    for (const event of batch)
      pendingOutcomes.push({ dueMs: tickStart + timings.labelDelayMs, value: JSON.stringify(event.outcome) });
    const due = pendingOutcomes.filter((o) => o.dueMs <= Date.now());
    if (due.length > 0) {
      pendingOutcomes.splice(0, due.length);
      await producer.send({ topic: topics.outcomes, messages: due.map((o) => ({ value: o.value })) });
      counts.outcomes += due.length;
    }
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      announce(`    sent ${counts.predictions} predictions, ${counts.outcomes} outcomes`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 250 - (Date.now() - tickStart))));
  }
  if (pendingOutcomes.length > 0) {
    await producer.send({
      topic: topics.outcomes,
      messages: pendingOutcomes.map((o) => ({ value: o.value })),
    });
    counts.outcomes += pendingOutcomes.length;
  }
}

async function clickhouseCount(url: string, sql: string): Promise<number> {
  const response = await fetch(`${url}/?query=${encodeURIComponent(sql)}`, { method: 'POST' });
  return response.ok ? Number((await response.text()).trim()) : -1;
}

async function waitForStored(
  url: string,
  database: string,
  expected: { predictions: number; outcomes: number },
): Promise<{ predictions: number; outcomes: number }> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const predictions = await clickhouseCount(url, `SELECT count() FROM ${database}.predictions FINAL`);
    const outcomes = await clickhouseCount(url, `SELECT count() FROM ${database}.outcomes FINAL`);
    if ((predictions >= expected.predictions && outcomes >= expected.outcomes) || Date.now() > deadline)
      return { predictions, outcomes };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function metricValue(api: string, name: string): Promise<number> {
  const text = await (await fetch(`${api}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.split(' ').pop());
  return total;
}
