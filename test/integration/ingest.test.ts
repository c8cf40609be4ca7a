import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DaemonProcess } from '../support/daemon-process.js';
import { PrivateClickHouse } from '../support/private-clickhouse.js';
import {
  cleanupsAfterEach,
  clickhouseQuery,
  dropDatabase,
  kcatConsume,
  kcatProduce,
  servicesEnv,
  type KcatMessage,
  uniqueName,
  waitFor,
} from '../support/index.js';

/**
 * Ingest against the real services: kcat (an independent client) produces, a real
 * `driftguard start` process consumes, and ClickHouse is read back with plain HTTP.
 */

const TOKEN = 'test-token-0123456789abcdef';

interface Setup {
  env: Record<string, string>;
  db: string;
  topics: { predictions: string; outcomes: string; deadLetter: string };
}

function setup(clickhouseUrl?: string): Setup {
  const services = servicesEnv();
  const name = uniqueName('ingest');
  const topics = { predictions: `${name}.p`, outcomes: `${name}.o`, deadLetter: `${name}.dlq` };
  return {
    db: name,
    topics,
    env: {
      DRIFTGUARD_KAFKA_BROKERS: services.kafkaBrokers,
      DRIFTGUARD_CLICKHOUSE_URL: clickhouseUrl ?? services.clickhouseUrl,
      DRIFTGUARD_CLICKHOUSE_DATABASE: name,
      DRIFTGUARD_TOPIC_PREDICTIONS: topics.predictions,
      DRIFTGUARD_TOPIC_OUTCOMES: topics.outcomes,
      DRIFTGUARD_TOPIC_DEAD_LETTER: topics.deadLetter,
      DRIFTGUARD_CONSUMER_GROUP: `${name}-group`,
      DRIFTGUARD_API_TOKEN: TOKEN,
    },
  };
}

function prediction(i: number, model = 'fraud'): string {
  return JSON.stringify({
    model,
    version: '7',
    id: `req-${i}`,
    timestamp: 1_795_399_200_000 + i * 1000,
    features: {
      amount: i * 1.5,
      country: ['DE', 'FR', 'US'][i % 3],
      age: i % 10 === 0 ? null : 20 + (i % 50),
    },
    prediction: i % 7 === 0 ? 'fraud' : 'ok',
    scores: { fraud: (i % 100) / 100, ok: 1 - (i % 100) / 100 },
  });
}

async function storedCount(url: string, db: string, table = 'predictions'): Promise<number> {
  const rows = await clickhouseQuery<{ c: string }>(url, `SELECT count() AS c FROM ${db}.${table} FINAL`);
  return Number(rows[0]?.c ?? 0);
}

async function duplicatesVisible(url: string, db: string): Promise<number> {
  const rows = await clickhouseQuery<{ c: string }>(
    url,
    `SELECT count() AS c FROM (SELECT model, id FROM ${db}.predictions FINAL GROUP BY model, id HAVING count() > 1)`,
  );
  return Number(rows[0]?.c ?? 0);
}

const cleanups = cleanupsAfterEach();

describe('ingest from Kafka into ClickHouse', () => {
  it('stores every valid event exactly once and dead-letters every invalid one with its reason', async () => {
    const s = setup();
    const { kafkaBrokers, clickhouseUrl } = servicesEnv();
    cleanups.push(() => dropDatabase(clickhouseUrl, s.db));
    const dir = await mkdtemp(path.join(tmpdir(), 'driftguard-cfg-'));
    const configFile = path.join(dir, 'driftguard.yaml');
    await writeFile(configFile, 'ingest:\n  maxEventBytes: 2048\n');

    const valid: KcatMessage[] = Array.from({ length: 600 }, (_, i) => ({ value: prediction(i) }));
    // A producer retry re-sends some records byte for byte: they must not be visible twice.
    const resent = valid.slice(0, 50);
    const invalid: Array<{ value: string | null; code: string }> = [
      { value: 'not json at all', code: 'not_json' },
      { value: '[1,2,3]', code: 'not_object' },
      { value: JSON.stringify({ id: 'x1', features: {} }), code: 'missing_field' },
      { value: JSON.stringify({ model: 'bad model!', id: 'x2' }), code: 'bad_model_name' },
      { value: '{"model":"fraud","id":"x3","features":{"amount":1e999}}', code: 'non_finite_number' },
      {
        value: JSON.stringify({ model: 'fraud', id: 'x4', features: { amount: [1, 2] } }),
        code: 'wrong_type',
      },
      { value: JSON.stringify({ model: 'fraud', id: 'x5', timestamp: 'yesterday' }), code: 'bad_timestamp' },
      {
        value: JSON.stringify({ model: 'fraud', id: 'x6', features: { blob: 'x'.repeat(3000) } }),
        code: 'oversized',
      },
    ];
    await kcatProduce(kafkaBrokers, s.topics.predictions, [
      ...valid.slice(0, 300),
      ...invalid.map((m) => ({ value: m.value, headers: { 'x-origin': 'test' } })),
      ...valid.slice(300),
      ...resent,
    ]);
    const outcomes: KcatMessage[] = Array.from({ length: 100 }, (_, i) => ({
      value: JSON.stringify({ model: 'fraud', id: `req-${i}`, label: i % 7 === 0 ? 'fraud' : 'ok' }),
    }));
    await kcatProduce(kafkaBrokers, s.topics.outcomes, [
      ...outcomes,
      { value: JSON.stringify({ model: 'fraud', id: 'req-1' }) },
    ]);

    const daemon = await DaemonProcess.start(s.env, ['--config', configFile]);
    cleanups.push(() => daemon.dispose());

    await waitFor(
      async () =>
        (await storedCount(clickhouseUrl, s.db)) === 600 &&
        (await storedCount(clickhouseUrl, s.db, 'outcomes')) === 100,
      {
        timeoutMs: 60_000,
        description: '600 predictions and 100 outcomes stored',
      },
    );
    expect(await duplicatesVisible(clickhouseUrl, s.db)).toBe(0);
    const [stored] = await clickhouseQuery<{
      amount: number;
      country: string;
      missing: string[];
      label: string;
      scores: number[];
    }>(
      clickhouseUrl,
      `SELECT num_values[indexOf(num_names, 'amount')] AS amount, cat_values[indexOf(cat_names, 'country')] AS country, missing_names AS missing, prediction_label AS label, score_values AS scores FROM ${s.db}.predictions FINAL WHERE id = 'req-10'`,
    );
    expect(stored).toEqual({ amount: 15, country: 'FR', missing: ['age'], label: 'ok', scores: [0.1, 0.9] });

    const dead = await kcatConsume(kafkaBrokers, s.topics.deadLetter, {
      count: invalid.length + 1,
      timeoutMs: 30_000,
    });
    const fromPredictions = dead.filter((m) => m.headers['driftguard-source-topic'] === s.topics.predictions);
    expect(fromPredictions.map((m) => m.headers['driftguard-reason-code']).sort()).toEqual(
      invalid.map((m) => m.code).sort(),
    );
    for (const message of fromPredictions) {
      expect(message.headers['driftguard-reason']).toMatch(/ at \$/);
      expect(Number(message.headers['driftguard-source-offset'])).toBeGreaterThanOrEqual(0);
      if (message.value !== null) expect(invalid.map((m) => m.value)).toContain(message.value);
      if (message.value !== null) expect(message.headers['x-origin']).toBe('test');
    }
    const fromOutcomes = dead.filter((m) => m.headers['driftguard-source-topic'] === s.topics.outcomes);
    expect(fromOutcomes.map((m) => m.headers['driftguard-reason-code'])).toEqual(['missing_field']);

    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toContain(
      `driftguard_ingest_events_total{topic="${s.topics.predictions}",result="rejected"} ${invalid.length}`,
    );
    expect(metrics).toContain(
      `driftguard_ingest_events_total{topic="${s.topics.predictions}",result="accepted"} 650`,
    );
    expect(metrics).toMatch(/driftguard_consumer_lag\{topic="[^"]+",partition="\d+"\} 0/);
    const ready = await fetch(`${daemon.url}/readyz`);
    expect(ready.status).toBe(200);

    daemon.kill('SIGTERM');
    const exit = await daemon.exited;
    expect(exit.code).toBe(0);
    expect(daemon.logs.some((l) => l.msg === 'state change' && l['to'] === 'stopped')).toBe(true);
  });

  it('loses nothing and shows nothing twice when killed with SIGKILL mid-stream', async () => {
    const s = setup();
    const { kafkaBrokers, clickhouseUrl } = servicesEnv();
    cleanups.push(() => dropDatabase(clickhouseUrl, s.db));
    const total = 30_000;
    // The restarted daemon joins the group once the killed one's session has run out: keep it short.
    const dir = await mkdtemp(path.join(tmpdir(), 'driftguard-ingest-kill-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const configFile = path.join(dir, 'driftguard.yaml');
    await writeFile(configFile, 'kafka: { sessionTimeoutMs: 8000, heartbeatIntervalMs: 1000 }\n');
    const first = await DaemonProcess.start(s.env, ['--config', configFile]);
    cleanups.push(() => first.dispose());
    const producing = (async () => {
      for (let start = 0; start < total; start += 3_000) {
        await kcatProduce(
          kafkaBrokers,
          s.topics.predictions,
          Array.from({ length: 3_000 }, (_, i) => ({ value: prediction(start + i) })),
        );
      }
    })();
    await waitFor(async () => (await storedCount(clickhouseUrl, s.db)) >= 3_000, {
      timeoutMs: 60_000,
      description: 'first events stored',
    });
    first.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    const atKill = await storedCount(clickhouseUrl, s.db);
    await producing;
    expect(atKill).toBeLessThan(total);

    const second = await DaemonProcess.start(s.env, ['--config', configFile]);
    cleanups.push(() => second.dispose());
    await waitFor(async () => (await storedCount(clickhouseUrl, s.db)) === total, {
      timeoutMs: 90_000,
      description: `${total} events stored after restart`,
    });
    expect(await duplicatesVisible(clickhouseUrl, s.db)).toBe(0);
    const ids = await clickhouseQuery<{ c: string }>(
      clickhouseUrl,
      `SELECT uniqExact(id) AS c FROM ${s.db}.predictions`,
    );
    expect(Number(ids[0]?.c)).toBe(total);
  });

  it('waits out a ClickHouse outage: stays up, says why it is not ready, then resumes without loss', async () => {
    const clickhouse = await PrivateClickHouse.create();
    cleanups.push(() => clickhouse.dispose());
    const s = setup(clickhouse.url);
    const { kafkaBrokers } = servicesEnv();
    const daemon = await DaemonProcess.start({ ...s.env });
    cleanups.push(() => daemon.dispose());
    const produce = (from: number, count: number): Promise<void> =>
      kcatProduce(
        kafkaBrokers,
        s.topics.predictions,
        Array.from({ length: count }, (_, i) => ({ value: prediction(from + i) })),
      );

    await produce(0, 2_000);
    await waitFor(async () => (await storedCount(clickhouse.url, s.db)) === 2_000, {
      timeoutMs: 60_000,
      description: 'first 2000 stored',
    });

    await clickhouse.stop();
    await produce(2_000, 3_000);
    const notReady = await waitFor(
      async () => {
        const response = await fetch(`${daemon.url}/readyz`);
        return response.status === 503
          ? ((await response.json()) as { checks: Array<{ name: string; ok: boolean; reason?: string }> })
          : undefined;
      },
      { timeoutMs: 30_000, description: '/readyz to report 503' },
    );
    const clickhouseCheck = notReady.checks.find((c) => c.name === 'clickhouse');
    expect(clickhouseCheck?.ok).toBe(false);
    expect(clickhouseCheck?.reason).toContain(clickhouse.url);
    await waitFor(() => daemon.logs.some((l) => l.msg === 'transient failure; retrying'), {
      timeoutMs: 30_000,
      description: 'ingest retrying',
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);

    await clickhouse.start();
    await waitFor(async () => (await storedCount(clickhouse.url, s.db)) === 5_000, {
      timeoutMs: 90_000,
      description: 'all 5000 stored after recovery',
    });
    await waitFor(async () => (await fetch(`${daemon.url}/readyz`)).status === 200, {
      timeoutMs: 30_000,
      description: 'ready again',
    });
    expect(await duplicatesVisible(clickhouse.url, s.db)).toBe(0);
    // Every retry through the outage is counted.
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    const retries = Number(/^driftguard_store_retries_total (\d+)/m.exec(metrics)?.[1] ?? 0);
    expect(retries).toBeGreaterThan(0);
  });

  it('retries through a frozen ClickHouse (request timeouts) and counts every retry', async () => {
    const clickhouse = await PrivateClickHouse.create();
    cleanups.push(() => clickhouse.dispose());
    const s = setup(clickhouse.url);
    const { kafkaBrokers } = servicesEnv();
    const dir = await mkdtemp(path.join(tmpdir(), 'driftguard-frozen-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const configFile = path.join(dir, 'driftguard.yaml');
    await writeFile(configFile, 'clickhouse: { requestTimeoutMs: 1500 }\n');
    const daemon = await DaemonProcess.start(s.env, ['--config', configFile]);
    cleanups.push(() => daemon.dispose());
    const produce = (from: number, count: number): Promise<void> =>
      kcatProduce(
        kafkaBrokers,
        s.topics.predictions,
        Array.from({ length: count }, (_, i) => ({ value: prediction(from + i) })),
      );
    await produce(0, 500);
    await waitFor(async () => (await storedCount(clickhouse.url, s.db)) === 500, {
      timeoutMs: 60_000,
      description: 'first 500 stored',
    });
    // A hung server: requests time out rather than being refused. The client's timeout is
    // transient, so ingest retries (and counts it) instead of restarting the consumer.
    clickhouse.freeze();
    try {
      await produce(500, 500);
      await waitFor(
        async () => {
          const text = await (await fetch(`${daemon.url}/metrics`)).text();
          return Number(/^driftguard_store_retries_total (\d+)/m.exec(text)?.[1] ?? 0) >= 2;
        },
        { timeoutMs: 30_000, description: 'store retries counted while ClickHouse is frozen' },
      );
    } finally {
      clickhouse.thaw();
    }
    await waitFor(async () => (await storedCount(clickhouse.url, s.db)) === 1_000, {
      timeoutMs: 60_000,
      description: 'all 1000 stored after the thaw',
    });
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toMatch(/^driftguard_consumer_restarts_total 0$/m);
  });

  it('stores around rows the store refuses: each refused record is dead-lettered with the store reason', async () => {
    const s = setup();
    const { kafkaBrokers, clickhouseUrl } = servicesEnv();
    cleanups.push(() => dropDatabase(clickhouseUrl, s.db));
    const daemon = await DaemonProcess.start(s.env);
    cleanups.push(() => daemon.dispose());
    // A column narrower than the validator allows (as an operator's ALTER could leave it): the
    // validator passes "v2" as a version, ClickHouse refuses it in a UInt8 (Code 27). A real
    // refusal by the real store, of a few records among many, on every partition.
    await clickhouseQuery(clickhouseUrl, `ALTER TABLE ${s.db}.predictions MODIFY COLUMN version UInt8`);
    const events = Array.from({ length: 600 }, (_, i) => ({
      value: JSON.stringify({
        model: 'narrow',
        id: `n-${i}`,
        version: i % 200 === 7 ? 'v2' : '7',
        features: { x: i },
      }),
    }));
    await kcatProduce(kafkaBrokers, s.topics.predictions, events);
    await waitFor(async () => (await storedCount(clickhouseUrl, s.db)) === 597, {
      timeoutMs: 60_000,
      description: 'the 597 storable events stored',
    });
    const dead = await kcatConsume(kafkaBrokers, s.topics.deadLetter, { count: 3, timeoutMs: 30_000 });
    expect(dead.map((m) => (JSON.parse(m.value ?? '{}') as { id: string }).id).sort()).toEqual([
      'n-207',
      'n-407',
      'n-7',
    ]);
    for (const message of dead) {
      expect(message.headers['driftguard-reason-code']).toBe('store_rejected');
      expect(message.headers['driftguard-reason']).toMatch(/Cannot parse input/);
    }
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toContain(
      `driftguard_dead_lettered_total{topic="${s.topics.predictions}",code="store_rejected"} 3`,
    );
    expect(metrics).toContain(
      `driftguard_ingest_events_total{topic="${s.topics.predictions}",result="accepted"} 597`,
    );
    expect((await fetch(`${daemon.url}/readyz`)).status).toBe(200);
  });
});

describe('ingest over HTTP', () => {
  it('accepts JSON arrays and NDJSON through the same validation, and says why each rejected line was rejected', async () => {
    const s = setup();
    const { clickhouseUrl } = servicesEnv();
    cleanups.push(() => dropDatabase(clickhouseUrl, s.db));
    const daemon = await DaemonProcess.start(s.env);
    cleanups.push(() => daemon.dispose());
    const post = (route: string, body: string, token?: string): Promise<Response> =>
      fetch(`${daemon.url}${route}`, {
        method: 'POST',
        body,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });

    expect((await post('/v1/predictions', prediction(1))).status).toBe(401);
    expect((await post('/v1/predictions', prediction(1), 'wrong-token-wrong-token')).status).toBe(401);

    const ndjson = [prediction(1), 'garbage', '', prediction(2), JSON.stringify({ model: 'fraud' })].join(
      '\n',
    );
    const response = await post('/v1/predictions', ndjson, TOKEN);
    expect(response.status).toBe(200);
    const result = (await response.json()) as {
      accepted: number;
      rejected: Array<{ index: number; code: string; path: string }>;
    };
    expect(result.accepted).toBe(2);
    expect(result.rejected.map((r) => [r.index, r.code, r.path])).toEqual([
      [2, 'not_json', '$'],
      [5, 'missing_field', '$.id'],
    ]);

    const array = await post(
      '/v1/outcomes',
      JSON.stringify([
        { model: 'fraud', id: 'req-1', label: 'ok' },
        { model: 'fraud', id: 'req-2', label: 3 },
      ]),
      TOKEN,
    );
    expect(await array.json()).toEqual({ accepted: 2, rejected: [] });

    const none = await post('/v1/outcomes', JSON.stringify([{ model: 'fraud', id: 'req-1' }]), TOKEN);
    expect(none.status).toBe(400);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('no_valid_events');

    expect(await storedCount(clickhouseUrl, s.db)).toBe(2);
    expect(await storedCount(clickhouseUrl, s.db, 'outcomes')).toBe(2);
  });

  it('stores two concurrent 14 MB posts of small events under --max-old-space-size=256, and Kafka ingest goes on', async () => {
    const s = setup();
    const { kafkaBrokers, clickhouseUrl } = servicesEnv();
    cleanups.push(() => dropDatabase(clickhouseUrl, s.db));
    const daemon = await DaemonProcess.start({ ...s.env, NODE_OPTIONS: '--max-old-space-size=256' });
    cleanups.push(() => daemon.dispose());
    // Small events: the most objects and rows per megabyte (the old code died on these).
    const body = (tag: string): Buffer => {
      const lines: string[] = [];
      let bytes = 0;
      for (let i = 0; bytes < 14 * 1024 * 1024; i++) {
        const line = JSON.stringify({ model: tag, id: `${tag}-${i}`, features: { x: i % 100 } });
        lines.push(line);
        bytes += line.length + 1;
      }
      return Buffer.from(lines.join('\n'));
    };
    const [a, b] = [body('big_a'), body('big_b')];
    const answers = await Promise.all(
      [a, b].map((payload) =>
        fetch(`${daemon.url}/v1/predictions`, {
          method: 'POST',
          body: payload,
          headers: { authorization: `Bearer ${TOKEN}` },
        }),
      ),
    );
    // Streamed and stored in parts, each request holds ~9 MB of the 64 MiB budget: both are stored.
    const results = await Promise.all(
      answers.map(async (answer) => ({
        status: answer.status,
        body: (await answer.json()) as { accepted: number },
      })),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    const countOf = async (model: string): Promise<number> =>
      Number(
        (
          await clickhouseQuery<{ c: string }>(
            clickhouseUrl,
            `SELECT uniqExact(id) AS c FROM ${s.db}.predictions WHERE model = '${model}'`,
          )
        )[0]?.c ?? 0,
      );
    expect([await countOf('big_a'), await countOf('big_b')]).toEqual(results.map((r) => r.body.accepted));
    expect(results[0]?.body.accepted).toBe(a.toString().split('\n').length);
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
    await kcatProduce(
      kafkaBrokers,
      s.topics.predictions,
      Array.from({ length: 100 }, (_, i) => ({ value: prediction(i, 'after_big') })),
    );
    await waitFor(
      async () =>
        Number(
          (
            await clickhouseQuery<{ c: string }>(
              clickhouseUrl,
              `SELECT count() AS c FROM ${s.db}.predictions FINAL WHERE model = 'after_big'`,
            )
          )[0]?.c ?? 0,
        ) === 100,
      { timeoutMs: 60_000, description: 'Kafka ingest after the big posts' },
    );
    expect(daemon.logs.some((l) => /heap out of memory/i.test(l.msg))).toBe(false);
  });
});
