/**
 * A retune triggered by drift learns the world after the drift: it waits, visibly, for labelled
 * rows after the onset the monitor reported, then reads only those; manual retunes keep the
 * lookback (issue 18, "The window a retune learns from").
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Retuner,
  type DatasetProvider,
  type DatasetRequest,
  type RetuneProgressEvent,
} from '../../../../retune/orchestrator/index.js';
import { MemoryRetuneStorage } from '../../../../retune/store/index.js';
import { createLogger } from '../../../../kernel/logger.js';
import {
  THRESHOLD_SPACE,
  ThresholdTrainer,
  writeThresholdDataset,
} from '../../../fixtures/retune/threshold-trainer.js';

const logger = createLogger('silent');
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;

/** Threshold data, with a scripted sequence of labelled-row counts. */
function scripted(counts: number[]): DatasetProvider & { requests: DatasetRequest[]; counted: number } {
  const provider = {
    requests: [] as DatasetRequest[],
    counted: 0,
    prepare: (request: DatasetRequest) => {
      provider.requests.push(request);
      return writeThresholdDataset(request.dir, 400, 3, request.holdoutDir, request.window);
    },
    countLabelled: () => Promise.resolve(counts[Math.min(provider.counted++, counts.length - 1)] ?? 0),
  };
  return provider;
}

async function make(
  datasets: DatasetProvider,
  overrides: Record<string, unknown> = {},
  storage = new MemoryRetuneStorage(),
) {
  const dir = await mkdtemp(path.join(tmpdir(), 'retune-window-'));
  dirs.push(dir);
  const registry = new Registry();
  const retuner = new Retuner({
    storage,
    config: {
      enabled: true,
      space: THRESHOLD_SPACE,
      sampler: { name: 'random' },
      pruner: { name: 'none' },
      budget: { maxTrials: 3 },
      triggers: { cooldownMs: 0, states: ['critical'] },
      data: { afterDrift: { minLabelledRows: 1000, pollIntervalMs: 5, maxWaitMs: 60_000 } },
      modelStoreDir: path.join(dir, 'models'),
      workDir: path.join(dir, 'work'),
      ...overrides,
    },
    trainer: new ThresholdTrainer({ epochs: 1 }),
    datasets,
    logger,
    registry,
  });
  return { retuner, storage, registry, dir };
}

describe('the window a retune learns from', () => {
  it('waits for labelled rows after the drift onset, visibly, then learns from them only', async () => {
    const datasets = scripted([120, 640, 999, 1200]);
    const { retuner, storage, registry } = await make(datasets);
    const events: RetuneProgressEvent[] = [];
    retuner.onProgress((e) => events.push(e));
    await retuner.start();
    const onsetMs = Date.now() - 3_600_000;
    const started = await retuner.onHealth('churn', 'critical', { driftOnsetMs: onsetMs });
    const studyId = started?.studyId ?? '';
    // Stored as waiting at once, with the policy and how many rows it needs.
    const first = storage.studyRows.find((s) => s.studyId === studyId);
    expect(first?.state).toBe('waiting');
    expect(JSON.parse(first?.window ?? '{}')).toMatchObject({
      policy: 'drift-onset',
      onsetMs,
      neededRows: 1000,
    });

    const outcome = await retuner.waitForStudy(studyId);
    expect(outcome.record.state).toBe('completed');
    const waits = events.filter((e) => e.type === 'study.waiting');
    expect(waits.map((e) => (e.type === 'study.waiting' ? e.labelledRows : 0))).toEqual([
      120, 640, 999, 1200,
    ]);
    // The counts went to the study row, one per poll (the API and CLI show them).
    const counted = storage.studyRows
      .filter((s) => s.studyId === studyId && s.state === 'waiting')
      .map((s) => (JSON.parse(s.window) as { labelledRows?: number }).labelledRows);
    expect(counted).toEqual(expect.arrayContaining([120, 640, 999, 1200]));
    // Data: after the onset, up to when the labels were there.
    expect(datasets.requests).toHaveLength(1);
    expect(datasets.requests[0]?.window).toMatchObject({ policy: 'drift-onset', onsetMs, sinceMs: onsetMs });
    // The decision names the window.
    expect(storage.decisions[0]?.evidence).toMatchObject({
      window: {
        policy: 'drift-onset',
        onsetMs,
        sinceMs: onsetMs,
        rows: { train: 400, validation: 200, holdout: 400 },
      },
    });
    expect(storage.decisions[0]?.reason).toMatch(/data: rows after the drift onset \d{4}-/);
    // The gauges are back to nothing waiting.
    const text = await registry.metrics();
    expect(text).toMatch(/driftguard_retune_studies_waiting 0/);
    expect(text).not.toMatch(/driftguard_retune_waiting_for_labels\{model="churn"\}/);
    await retuner.stop();
  });

  it('exports the waiting state as metrics while it waits', async () => {
    const datasets = scripted([10]);
    const { retuner, registry } = await make(datasets);
    await retuner.start();
    const started = await retuner.onHealth('churn', 'critical', { driftOnsetMs: Date.now() - 60_000 });
    while (datasets.counted < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const text = await registry.metrics();
    expect(text).toMatch(/driftguard_retune_studies_waiting 1/);
    expect(text).toMatch(/driftguard_retune_waiting_for_labels\{model="churn"\} 990/);
    expect((await retuner.getStudy(started?.studyId ?? ''))?.state).toBe('waiting');
    await retuner.stop();
  });

  it('never reaches further back than the lookback, even for an old onset', async () => {
    const datasets = scripted([5000]);
    const { retuner } = await make(datasets, {
      data: { lookbackMs: DAY, afterDrift: { minLabelledRows: 10, pollIntervalMs: 5 } },
    });
    await retuner.start();
    const started = await retuner.onHealth('churn', 'critical', { driftOnsetMs: Date.now() - 10 * DAY });
    await retuner.waitForStudy(started?.studyId ?? '');
    const window = datasets.requests[0]?.window;
    expect((window?.untilMs ?? 0) - (window?.sinceMs ?? 0)).toBe(DAY);
    await retuner.stop();
  });

  it('keeps the lookback for manual and API retunes, and says why for a monitor trigger without an onset', async () => {
    const datasets = scripted([0]);
    const { retuner, storage } = await make(datasets, {
      triggers: { cooldownMs: 0, maxConcurrentStudies: 2 },
    });
    await retuner.start();
    const before = Date.now();
    const manual = await retuner.trigger('churn', { source: 'manual', driftOnsetMs: before - 1000 });
    await retuner.waitForStudy(manual.studyId);
    const window = datasets.requests[0]?.window;
    expect(window?.policy).toBe('lookback');
    expect((window?.untilMs ?? 0) - (window?.sinceMs ?? 0)).toBe(604_800_000);
    const monitor = await retuner.onHealth('fraud', 'critical');
    await retuner.waitForStudy(monitor?.studyId ?? '');
    const record = await storage.getStudy(monitor?.studyId ?? '');
    expect(JSON.parse(record?.window ?? '{}')).toMatchObject({
      policy: 'lookback',
      note: 'the monitor reported no drift onset',
    });
    expect(datasets.counted).toBe(0);
    await retuner.stop();
  });

  it('fails with the counts when the labels do not come in time', async () => {
    const datasets = scripted([3, 4]);
    const { retuner } = await make(datasets, {
      data: { afterDrift: { minLabelledRows: 1000, pollIntervalMs: 5, maxWaitMs: 40 } },
    });
    await retuner.start();
    const started = await retuner.onHealth('churn', 'critical', { driftOnsetMs: Date.now() - 60_000 });
    const outcome = await retuner.waitForStudy(started?.studyId ?? '');
    expect(outcome.record.state).toBe('failed');
    expect(outcome.record.error).toMatch(/for 1000 labelled rows after the drift onset .*; only 4 arrived/);
    await retuner.stop();
  });

  it('lets a waiting study hold no study slot, but still only one study per model', async () => {
    const datasets = scripted([0]);
    const { retuner } = await make(datasets, { triggers: { cooldownMs: 0, maxConcurrentStudies: 1 } });
    await retuner.start();
    const waiting = await retuner.onHealth('churn', 'critical', { driftOnsetMs: Date.now() - 60_000 });
    await expect(retuner.trigger('churn', { source: 'api' })).rejects.toThrow(
      /already has study .* waiting for labels/,
    );
    const other = await retuner.trigger('fraud', { source: 'api' });
    expect((await retuner.waitForStudy(other.studyId)).record.state).toBe('completed');
    expect(retuner.cancel(waiting?.studyId ?? '')).toBe(true);
    expect((await retuner.waitForStudy(waiting?.studyId ?? '')).record.state).toBe('cancelled');
    await retuner.stop();
  });

  it('resumes a waiting study after a restart, and starts its wall-time budget when it trains', async () => {
    const storage = new MemoryRetuneStorage();
    const datasets = scripted([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5000]);
    const { retuner: first } = await make(datasets, {}, storage);
    await first.start();
    const started = await first.onHealth('churn', 'critical', { driftOnsetMs: Date.now() - 60_000 });
    while (datasets.counted < 3) await new Promise((resolve) => setTimeout(resolve, 5));
    await first.stop();
    expect((await storage.getStudy(started?.studyId ?? ''))?.state).toBe('waiting');
    // The wall-time budget (150 ms) is shorter than the wait: it must count from training.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { retuner: second } = await make(
      datasets,
      { budget: { maxTrials: 3, maxWallTimeMs: 150 } },
      storage,
    );
    await second.start();
    const outcome = await second.waitForStudy(started?.studyId ?? '');
    expect(outcome.record.state).toBe('completed');
    expect(datasets.requests).toHaveLength(1);
    expect((await second.getStudy(started?.studyId ?? ''))?.trials.map((t) => t.state)).toEqual([
      'complete',
      'complete',
      'complete',
    ]);
    await second.stop();
  });
});
