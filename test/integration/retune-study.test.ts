import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Retuner, type RetunerDeps } from '../../retune/orchestrator/index.js';
import type { RetuneConfigInput } from '../../retune/options.js';
import { RETUNE_MIGRATIONS } from '../../retune/store/index.js';
import { createKafka } from '../../src/kafka/client.js';
import { Alerting } from '../../src/alerts/alerting.js';
import { ALERT_MIGRATIONS } from '../../src/alerts/migrations.js';
import { createLogger } from '../../kernel/logger.js';
import type { Store } from '../../kernel/store.js';
import { KafkaEventPublisher } from '../../src/kafka/event-publisher.js';
import { migrate } from '../../kernel/migrations.js';
import {
  THRESHOLD_SPACE,
  ThresholdTrainer,
  thresholdDatasets,
  writeThresholdArtifact,
} from '../fixtures/retune/threshold-trainer.js';
import {
  cleanupsAfterEach,
  ENGINES,
  type TestBackend,
  kcatConsume,
  migratedDatabase,
  optimizeFinal,
  servicesEnv,
  uniqueName,
  waitFor,
  processGone,
  startDaemonWithTrial,
} from '../support/index.js';

const logger = createLogger('silent');
const cleanup = cleanupsAfterEach();

interface Env {
  db: string;
  store: Store;
  dir: string;
  topic: string;
  notes: Array<{ kind: string; summary: string }>;
}

async function environmentOn(engine: TestBackend): Promise<Env> {
  const { db, store, drop } = await migratedDatabase('retune', RETUNE_MIGRATIONS, engine);
  const dir = await mkdtemp(path.join(tmpdir(), 'retune-'));
  cleanup.push(drop);
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return { db, store, dir, topic: uniqueName('events'), notes: [] };
}

function config(env: Env, overrides: Partial<RetuneConfigInput> = {}): RetuneConfigInput {
  return {
    enabled: true,
    objective: { metric: 'val_loss', direction: 'minimize' },
    space: THRESHOLD_SPACE,
    sampler: { name: 'random' },
    pruner: { name: 'none' },
    seed: 11,
    budget: { maxTrials: 6, maxWallTimeMs: 600_000, maxConcurrentTrials: 2 },
    promotion: { metric: 'accuracy', minImprovement: 0.02, alpha: 0.05 },
    triggers: { cooldownMs: 0, maxConcurrentStudies: 2 },
    modelStoreDir: path.join(env.dir, 'models'),
    workDir: path.join(env.dir, 'work'),
    ...overrides,
  };
}

function retuner(env: Env, overrides: Partial<RetunerDeps> = {}, cfg?: RetuneConfigInput): Retuner {
  const kafka = createKafka({ clientId: 'retune-test', brokers: [servicesEnv().kafkaBrokers] }, logger);
  const publisher = new KafkaEventPublisher(kafka, env.topic);
  cleanup.push(() => publisher.close());
  return new Retuner({
    store: env.store,
    config: cfg ?? config(env),
    trainer: new ThresholdTrainer(),
    datasets: thresholdDatasets,
    publisher,
    notifier: {
      notifyEvent: (input) => {
        env.notes.push({ kind: input.kind, summary: input.summary });
        return Promise.resolve(input);
      },
    },
    logger,
    registry: new Registry(),
    ...overrides,
  });
}

/** Registers a hand-made champion with the given threshold. */
async function seedChampion(r: Retuner, env: Env, model: string, threshold: number): Promise<void> {
  const artifactUri = await writeThresholdArtifact(path.join(env.dir, 'seed', model), threshold);
  await r.registry.registerVersion({
    model,
    version: 'v0',
    createdAtMs: Date.now(),
    studyId: '',
    trial: -1,
    artifactUri,
    params: { threshold },
    metrics: {},
  });
  await r.registry.promote(model, 'v0', { actor: 'test', reason: 'initial model' });
}

describe.each(ENGINES)('Retuner on the %s backend and the real Kafka', (engine) => {
  let current: Env | undefined;
  const environment = async (): Promise<Env> => (current = await environmentOn(engine));
  const q = <T = Record<string, unknown>>(sql: string): Promise<T[]> => {
    if (current === undefined) throw new Error('no environment yet');
    return current.store.select<T>('check', sql);
  };

  it('promotes a significantly better winner with its evidence, then rolls back', async () => {
    const env = await environment();
    // The real alerting subsystem (no sinks configured): events land in alert_notifications.
    await migrate(env.store, logger, ALERT_MIGRATIONS);
    const alerting = new Alerting({
      store: env.store,
      config: {},
      logger,
      registry: new Registry(),
    });
    await alerting.start();
    cleanup.push(() => alerting.stop());
    // 8 random thresholds: P(none within 0.33 of the optimum, i.e. none significantly better
    // than the 0.85 champion) = 0.34^8, about 2e-4.
    const r = retuner(
      env,
      { notifier: alerting },
      config(env, { budget: { maxTrials: 8, maxWallTimeMs: 600_000, maxConcurrentTrials: 2 } }),
    );
    await r.start();
    cleanup.push(() => r.stop());
    await seedChampion(r, env, 'churn', 0.85);

    const { studyId } = await r.trigger('churn', { source: 'api' });
    const outcome = await r.waitForStudy(studyId);
    expect(outcome.record.state).toBe('completed');
    expect(outcome.decision?.promoted).toBe(true);
    expect(outcome.decision?.test).toBe('mcnemar');

    const view = await r.getStudy(studyId);
    expect(view?.trials).toHaveLength(8);
    expect(view?.trials.every((t) => t.state === 'complete')).toBe(true);
    expect(view?.bestTrial).toBeGreaterThanOrEqual(0);
    const version = `${studyId}-t${view?.bestTrial}`;
    // The dashboards read "latest" with FINAL: rows written within one second must collapse
    // onto the last one written (ReplacingMergeTree keeps the last row of a version tie).
    await optimizeFinal(env.store, 'studies');
    const final = await q<{ state: string; best_trial: number }>(
      `SELECT state, best_trial FROM ${env.db}.studies FINAL WHERE study_id = '${studyId}'`,
    );
    expect(final).toEqual([{ state: 'completed', best_trial: view?.bestTrial }]);
    const finalTrials = await q<{ state: string }>(
      `SELECT state FROM ${env.db}.trials FINAL WHERE study_id = '${studyId}'`,
    );
    expect(finalTrials.map((t) => t.state)).toEqual(Array(8).fill('complete'));

    const decisions = await q<{
      promoted: number;
      test: string;
      p_value: number;
      champion_version: string;
      challenger_version: string;
      reason: string;
    }>(
      `SELECT promoted, test, p_value, champion_version, challenger_version, reason FROM ${env.db}.promotion_decisions`,
    );
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({
      promoted: 1,
      test: 'mcnemar',
      champion_version: 'v0',
      challenger_version: version,
    });
    expect(decisions[0]?.p_value).toBeLessThan(0.05);

    const events = await q<{
      alias: string;
      version: string;
      previous_version: string;
      action: string;
      actor: string;
      evidence: string;
    }>(
      `SELECT alias, version, previous_version, action, actor, evidence FROM ${env.db}.alias_events ORDER BY revision`,
    );
    expect(events.map((e) => `${e.action}:${e.version}:${e.actor}`)).toEqual([
      'promote:v0:test',
      `promote:${version}:retuner`,
    ]);
    const evidence = JSON.parse(events[1]?.evidence ?? '{}') as Record<string, unknown>;
    // The gate's numbers, the test index against this champion, and the data window.
    expect(evidence).toMatchObject({
      studyId,
      test: 'mcnemar',
      testIndex: 1,
      method: { name: 'tango-score-cc' },
      window: { policy: 'lookback' },
    });
    expect(evidence['lowerBound']).toBeGreaterThan(0.02);
    expect((await r.aliases('churn')).champion).toBe(version);
    expect((await readdir(path.join(env.dir, 'models', 'churn', version))).sort()).toEqual([
      'driftguard-scoring.json',
      'model.json',
    ]);

    const messages = await kcatConsume(servicesEnv().kafkaBrokers, env.topic, {
      count: 1,
      timeoutMs: 30_000,
    });
    const promotion = JSON.parse(messages[0]?.value ?? '{}') as Record<string, unknown>;
    expect(promotion).toMatchObject({
      type: 'promotion',
      model: 'churn',
      version,
      previous: 'v0',
      metric: 'accuracy',
    });
    expect(promotion['evidence']).toMatchObject({ studyId });
    const kinds = async (): Promise<string[]> =>
      (
        await q<{ status: string }>(
          `SELECT status FROM ${env.db}.alert_notifications WHERE model = 'churn' AND kind = 'event' ORDER BY created_at, status`,
        )
      ).map((row) => row.status);
    expect((await kinds()).sort()).toEqual(['promotion', 'retune.completed']);

    // Rollback: dry run changes nothing; the real one restores v0 and is audited and announced.
    const dry = await r.rollback('churn', { actor: 'ops', dryRun: true });
    expect(dry.event.version).toBe('v0');
    expect((await r.aliases('churn')).champion).toBe(version);
    await r.rollback('churn', { actor: 'ops', reason: 'bad on live traffic' });
    const aliases = await r.aliases('churn');
    expect(aliases.champion).toBe('v0');
    expect(aliases.history.at(-1)).toMatchObject({
      action: 'rollback',
      version: 'v0',
      previousVersion: version,
      actor: 'ops',
      reason: 'bad on live traffic',
    });
    const all = await kcatConsume(servicesEnv().kafkaBrokers, env.topic, { count: 2, timeoutMs: 30_000 });
    expect(all.map((m) => (JSON.parse(m.value ?? '{}') as { type: string }).type).sort()).toEqual([
      'promotion',
      'rollback',
    ]);
    expect((await kinds()).sort()).toEqual(['promotion', 'retune.completed', 'rollback']);
  });

  it('records a rejection and promotes nothing when the winner is not better', async () => {
    const env = await environment();
    const r = retuner(
      env,
      {},
      config(env, { space: { params: [{ name: 'threshold', type: 'float', low: 0.3, high: 0.7 }] } }),
    );
    await r.start();
    cleanup.push(() => r.stop());
    await seedChampion(r, env, 'fraud', 0.5); // the perfect threshold: nothing can beat it

    const { studyId } = await r.trigger('fraud', { source: 'manual' });
    const outcome = await r.waitForStudy(studyId);
    expect(outcome.record.state).toBe('completed');
    expect(outcome.decision?.promoted).toBe(false);

    const decisions = await q<{ promoted: number; reason: string; improvement: number }>(
      `SELECT promoted, reason, improvement FROM ${env.db}.promotion_decisions WHERE model = 'fraud'`,
    );
    expect(decisions).toHaveLength(1);
    expect(decisions[0]?.promoted).toBe(0);
    expect(decisions[0]?.improvement).toBeLessThanOrEqual(0);
    expect(decisions[0]?.reason).toMatch(/^rejected: /);
    expect((await r.aliases('fraud')).champion).toBe('v0');
    expect(await q(`SELECT * FROM ${env.db}.alias_events WHERE model = 'fraud'`)).toHaveLength(1);
    expect(await r.versions('fraud')).toHaveLength(1);
    expect(env.notes.map((n) => n.kind)).toEqual(['retune.completed']);
  });

  it('resumes a study after the daemon was killed mid-trial, never repeating completed trials', async () => {
    const env = await environment();
    const calls = new Map<number, number>();
    const params = new Map<number, unknown[]>();
    const cfg = config(env, { budget: { maxTrials: 6, maxWallTimeMs: 600_000, maxConcurrentTrials: 1 } });
    const first = retuner(
      env,
      { trainer: new ThresholdTrainer({ calls, params, hangOn: new Set([3]) }) },
      cfg,
    );
    await first.start();
    const { studyId } = await first.trigger('churn', { source: 'monitor' });

    // Wait until trials 0-2 are stored complete and trial 3 is stored running, then "kill" the
    // daemon: the first Retuner is dropped without stop(), its trial never returns.
    await waitFor(
      async () => {
        const rows = await q<{ trial: number; state: string }>(
          `SELECT trial, argMax(state, revision) AS state FROM ${env.db}.trials WHERE study_id = '${studyId}' GROUP BY trial ORDER BY trial`,
        );
        return (
          rows.map((row) => `${row.trial}:${row.state}`).join(',') ===
          '0:complete,1:complete,2:complete,3:running'
        );
      },
      { timeoutMs: 30_000, description: 'three trials complete and the fourth running' },
    );

    // A command-trainer program of the dead daemon, still running: the restart stops it.
    const orphan = await startDaemonWithTrial(path.join(env.dir, 'work', studyId, 'trial-left-running'));
    cleanup.push(() => orphan.cleanup());
    await orphan.kill();

    const second = retuner(env, { trainer: new ThresholdTrainer({ calls, params }) }, cfg);
    await second.start();
    cleanup.push(() => second.stop());
    await waitFor(() => processGone(orphan.trialPid), {
      timeoutMs: 10_000,
      description: 'the orphan to be stopped',
    });
    const outcome = await second.waitForStudy(studyId);
    expect(outcome.record.state).toBe('completed');
    expect([...calls.entries()].sort((a, b) => a[0] - b[0])).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
      [3, 2], // interrupted, re-queued with the same params
      [4, 1],
      [5, 1],
    ]);
    expect(params.get(3)?.[1]).toEqual(params.get(3)?.[0]);
    const view = await second.getStudy(studyId);
    expect(view?.trials.map((t) => t.state)).toEqual(Array(6).fill('complete'));
    // No champion before: the winner became the first champion, with that reason.
    const decision = await q<{ promoted: number; test: string; reason: string }>(
      `SELECT promoted, test, reason FROM ${env.db}.promotion_decisions WHERE study_id = '${studyId}'`,
    );
    expect(decision.map((d) => [d.promoted, d.test])).toEqual([[1, 'none']]);
    expect(decision[0]?.reason).toMatch(/no champion yet/);
  });

  it('a stopped Retuner leaves the study running; a new one resumes it', async () => {
    const env = await environment();
    const calls = new Map<number, number>();
    const cfg = config(env, { budget: { maxTrials: 4, maxWallTimeMs: 600_000, maxConcurrentTrials: 1 } });
    const first = retuner(env, { trainer: new ThresholdTrainer({ calls, epochs: 40 }) }, cfg);
    await first.start();
    const { studyId } = await first.trigger('churn', { source: 'api' });
    await waitFor(() => (calls.get(1) ?? 0) > 0, { timeoutMs: 30_000 });
    await first.stop();
    expect((await first.getStudy(studyId))?.state).toBe('running');
    await expect(first.trigger('other', { source: 'api' })).rejects.toMatchObject({ code: 'RETUNE_REFUSED' });

    const second = retuner(env, { trainer: new ThresholdTrainer({ calls, epochs: 2 }) }, cfg);
    await second.start();
    cleanup.push(() => second.stop());
    expect((await second.waitForStudy(studyId)).record.state).toBe('completed');
    expect(calls.get(0)).toBe(1);
  });
});
