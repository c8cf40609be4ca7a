import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Retuner } from '../../retune/orchestrator/index.js';
import { RETUNE_MIGRATIONS } from '../../retune/store/index.js';
import { registerRetuneCommands } from '../../src/cli/retune-commands.js';
import { createHttpApp } from '../../src/http/app.js';
import { retuneRoutes } from '../../src/http/retune-routes.js';
import { createLogger } from '../../kernel/logger.js';
import { createMetrics } from '../../src/metrics.js';
import type { Store } from '../../kernel/store.js';
import {
  THRESHOLD_SPACE,
  ThresholdTrainer,
  thresholdDatasets,
  writeThresholdArtifact,
} from '../fixtures/retune/threshold-trainer.js';
import { migratedDatabase } from '../support/index.js';

const logger = createLogger('silent');
const TOKEN = 'retune-test-token';
let store: Store;
let drop: () => Promise<void>;
let dir: string;
let retuner: Retuner;
let server: Server;
let base: string;
/** Labelled rows the dataset provider reports for any window. */
let labelled = 1000;

beforeAll(async () => {
  ({ store, drop } = await migratedDatabase('retune_api', RETUNE_MIGRATIONS));
  dir = await mkdtemp(path.join(tmpdir(), 'retune-api-'));
  retuner = new Retuner({
    store,
    config: {
      enabled: true,
      space: THRESHOLD_SPACE,
      sampler: { name: 'random' },
      pruner: { name: 'none' },
      budget: { maxTrials: 4, maxConcurrentTrials: 2 },
      triggers: { cooldownMs: 3_600_000 },
      data: { afterDrift: { minLabelledRows: 1000, pollIntervalMs: 50 } },
      modelStoreDir: path.join(dir, 'models'),
      workDir: path.join(dir, 'work'),
    },
    trainer: new ThresholdTrainer(),
    datasets: {
      prepare: (request) => thresholdDatasets.prepare(request),
      countLabelled: () => Promise.resolve(labelled),
    },
    logger,
    registry: new Registry(),
  });
  await retuner.start();
  const routes = retuneRoutes({ retuner });
  const app = createHttpApp({
    logger,
    metrics: createMetrics(new Registry(), { defaultMetrics: false }),
    apiToken: TOKEN,
    protectReads: false,
    protectMetrics: false,
    readiness: () => Promise.resolve([]),
    writeRoutes: [routes.write],
    readRoutes: [routes.read],
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await retuner.stop();
  await new Promise((resolve) => server.close(resolve));
  await drop();
  await rm(dir, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<string> {
  let output = '';
  const program = new Command('driftguard').exitOverride();
  registerRetuneCommands(program, {
    stdout: { write: (text: string) => (output += text), isTTY: false },
    env: { DRIFTGUARD_API_TOKEN: TOKEN, USER: 'tester' },
    pollMs: 50,
  });
  await program.parseAsync(['node', 'driftguard', ...args, '--url', base]);
  return output;
}

describe('retune HTTP API and CLI', () => {
  it('needs the token to start a study', async () => {
    const response = await fetch(`${base}/v1/models/churn/retune`, { method: 'POST' });
    expect(response.status).toBe(401);
  });

  it('refuses a model named "." or ".." (it would write outside the model store)', async () => {
    // fetch would resolve %2E%2E as a dot segment; a raw request sends the path as a client may.
    const post = (rawPath: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const { hostname, port } = new URL(base);
        const request = httpRequest(
          {
            hostname,
            port,
            path: rawPath,
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          },
          (response) => {
            let body = '';
            response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          },
        );
        request.on('error', reject);
        request.end('{}');
      });
    for (const name of ['%2E%2E', '%2E', '..']) {
      const response = await post(`/v1/models/${name}/retune`);
      expect(response.status).toBe(400);
      // Refused by the path's name rule before the retuner's own model-store check is reached.
      expect(JSON.parse(response.body)).toEqual({
        error: {
          code: 'invalid_query',
          message: expect.stringMatching(
            /^invalid model name "\.\.?" in the path: model names use letters/,
          ) as unknown,
        },
      });
    }
    expect(await retuner.listStudies()).toEqual([]);
  });

  it('runs a study from the CLI with progress, then lists, promotes and rolls back', async () => {
    const output = await cli('retune', 'churn');
    expect(output).toMatch(/^study st-\S+ started for churn\n/);
    expect(output).toMatch(/\] 4\/4 trials {2}best #\d = \S+ {2}completed\n/);
    expect(output).toMatch(/promoted: no champion yet/);

    const studies = JSON.parse(await cli('studies', '--json')) as Array<{ studyId: string; state: string }>;
    expect(studies).toHaveLength(1);
    expect(studies[0]?.state).toBe('completed');
    const study = (await (await fetch(`${base}/v1/studies/${studies[0]?.studyId}`)).json()) as {
      study: { trials: unknown[]; snapshot?: unknown };
    };
    expect(study.study.trials).toHaveLength(4);
    expect(study.study.snapshot).toBeUndefined();

    // A second study is refused during the cooldown, with the catalogue's code.
    await expect(cli('retune', 'churn')).rejects.toThrow(/429 retune_refused: .*cooldownMs/);

    const versions = (await (await fetch(`${base}/v1/models/churn/versions`)).json()) as {
      versions: Array<{ version: string }>;
    };
    expect(versions.versions).toHaveLength(1);
    await expect(cli('promote', 'churn', 'nope')).rejects.toThrow(/404 version_not_found/);
    const first = versions.versions[0]?.version ?? '';
    await expect(cli('promote', 'churn', first)).rejects.toThrow(
      /409 retune_conflict: .*already the champion/,
    );
    await expect(cli('rollback', 'churn', '--dry-run')).rejects.toThrow(/409 retune_conflict/);

    // A hand-registered version promoted from the CLI, then rolled back to the first champion.
    const artifactUri = await writeThresholdArtifact(path.join(dir, 'manual'), 0.95);
    await retuner.registry.registerVersion({
      model: 'churn',
      version: 'v-manual',
      createdAtMs: Date.now(),
      studyId: '',
      trial: -1,
      artifactUri,
      params: { threshold: 0.95 },
      metrics: {},
    });
    expect(await cli('promote', 'churn', 'v-manual', '--dry-run')).toBe(
      `[dry run] would move champion ${first} -> v-manual (promote)\n`,
    );
    expect(await cli('promote', 'churn', 'v-manual', '--reason', 'canary')).toBe(
      `moved champion ${first} -> v-manual (promote)\n`,
    );
    expect(await cli('rollback', 'churn', '--dry-run')).toBe(
      `[dry run] would move champion v-manual -> ${first} (rollback)\n`,
    );
    const rolled = JSON.parse(await cli('rollback', 'churn', '--reason', 'live errors', '--json')) as {
      dryRun: boolean;
      event: { version: string };
    };
    expect(rolled).toMatchObject({ dryRun: false, event: { version: first } });
    const aliases = (await (await fetch(`${base}/v1/models/churn/aliases`)).json()) as {
      champion: string;
      history: Array<{ action: string; actor: string; reason: string; version: string }>;
    };
    expect(aliases.champion).toBe(first);
    expect(aliases.history.map((e) => `${e.action}:${e.version}:${e.actor}`)).toEqual([
      `promote:${first}:retuner`,
      'promote:v-manual:cli:tester',
      `rollback:${first}:cli:tester`,
    ]);
    expect(aliases.history.at(-1)?.reason).toBe('live errors');
  });

  it('answers 404 for an unknown study and 400 for a bad query', async () => {
    expect((await fetch(`${base}/v1/studies/st-nope`)).status).toBe(404);
    expect((await fetch(`${base}/v1/studies?limit=0`)).status).toBe(400);
    expect((await fetch(`${base}/v1/studies?bogus=1`)).status).toBe(400);
    const cancel = await fetch(`${base}/v1/studies/st-nope/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(cancel.status).toBe(404);
    expect(((await cancel.json()) as { error: { code: string } }).error.code).toBe('study_not_found');
  });

  it('shows a drift-triggered study waiting for labels, with its window and counts', async () => {
    labelled = 120;
    const onsetMs = Date.now() - 3_600_000;
    const started = await retuner.onHealth('fraud', 'critical', { driftOnsetMs: onsetMs });
    const studyId = started?.studyId ?? '';
    const read = async () =>
      (
        (await (await fetch(`${base}/v1/studies/${studyId}`)).json()) as {
          study: { state: string; window: Record<string, unknown> };
        }
      ).study;
    let study = await read();
    for (let i = 0; i < 100 && study.window['labelledRows'] === undefined; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      study = await read();
    }
    expect(study.state).toBe('waiting');
    expect(study.window).toMatchObject({
      policy: 'drift-onset',
      onset: new Date(onsetMs).toISOString(),
      neededRows: 1000,
      labelledRows: 120,
    });
    const waiting = JSON.parse(await cli('studies', '--state', 'waiting', '--json')) as Array<{
      studyId: string;
    }>;
    expect(waiting.map((s) => s.studyId)).toEqual([studyId]);
    const list = await cli('studies', '--model', 'fraud');
    expect(list).toMatch(/fraud {2}waiting +monitor/);

    labelled = 5000;
    await retuner.waitForStudy(studyId);
    const done = await read();
    expect(done.state).toBe('completed');
    expect(done.window).toMatchObject({ policy: 'drift-onset', since: new Date(onsetMs).toISOString() });
    const { decisions } = (await (await fetch(`${base}/v1/models/fraud/decisions`)).json()) as {
      decisions: Array<{ evidence: { window: { policy: string; onsetMs: number } }; reason: string }>;
    };
    expect(decisions.at(-1)?.evidence.window).toMatchObject({ policy: 'drift-onset', onsetMs });
    expect(decisions.at(-1)?.reason).toMatch(/data: rows after the drift onset/);
  });
});
