/**
 * One study from trigger to promotion decision, as a few named phases:
 *
 *   waitForLabels (drift-triggered only) → prepareData → runTrials → evaluate
 *   (promotion-step.ts: scoreHoldout → decide → applyDecision)
 *
 * The engine decides (ask/report/tell); this runs trials through the trainer, persists a row
 * after every change (the snapshot holds the whole study, so the last row written is enough to
 * resume), and at the end scores the winner and the champion, each with its own encoding, on the
 * holdout no program saw, and runs the promotion gate.
 *
 * Two ways to stop: `stop` (the daemon is shutting down: running trials are aborted and NOT
 * told, the study stays `waiting`/`running` in the store and a restart resumes it) and `cancel`
 * (running trials fail, the study ends `cancelled`).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../kernel/logger.js';
import { pathInside } from '../../kernel/safe-path.js';
import type { DataWindow, PreparedDataset } from '../data/scoring.js';
import { HpoError, Study, type TrialRecord } from '../engine/index.js';
import type { RetuneConfig } from '../options.js';
import type { PromotionDecision } from '../promotion/index.js';
import type { ModelRegistry } from '../registry/index.js';
import type { RegistryStorage, StudyRecord, StudyState, StudyStorage, TrialRow } from '../store/types.js';
import type { DatasetRef, Trainer } from '../trainers/trainer.js';
import type { EventPublisher } from './events.js';
import { LabelWaitTimeout, waitForLabels } from './label-wait.js';
import type { RetuneMetrics } from './metrics.js';
import type { DatasetProvider, DeviceLeaseLike, DeviceSlots, EventNotifier } from './ports.js';
import type { RetuneProgressEvent } from './progress.js';
import { PromotionStep } from './promotion-step.js';
import { StudyWriter } from './study-writer.js';
import { dataWindowAt, describeWindow, parseStudyWindow, type StudyWindow } from './window.js';

export interface StudyRunDeps {
  readonly config: RetuneConfig;
  readonly storage: StudyStorage & RegistryStorage;
  readonly registry: ModelRegistry;
  readonly trainer: Trainer;
  readonly datasets: DatasetProvider;
  readonly devices: DeviceSlots;
  /** One slot per study that trains at once (`triggers.maxConcurrentStudies`); waiting does not hold one. */
  readonly studySlots: DeviceSlots;
  readonly publisher: EventPublisher | undefined;
  readonly notifier: EventNotifier | undefined;
  readonly metrics: RetuneMetrics;
  readonly logger: Logger;
  readonly now: () => number;
  readonly emit: (event: RetuneProgressEvent) => void;
  /** Aborted when the daemon stops. */
  readonly stopSignal: AbortSignal;
}

export interface StudyOutcome {
  readonly record: StudyRecord;
  /** Undefined when the study stopped, was cancelled or no trial completed. */
  readonly decision: PromotionDecision | undefined;
}

/** What a resumed study brings back from the store. */
export interface RestoredStudy {
  /** The prepared dataset, when its files survived the restart. */
  readonly dataset?: PreparedDataset;
  /** The dataset had been prepared, but its files are gone: re-prepared and compared. */
  readonly lostDataset?: { readonly fingerprint: string | undefined };
  readonly trials?: readonly TrialRow[];
}

const CANCELLED = 'cancelled';

export class StudyRun {
  private readonly cancelController = new AbortController();
  private readonly budgetController = new AbortController();
  private readonly signal: AbortSignal;
  private readonly artifacts = new Map<number, string>();
  private readonly devicesOf = new Map<number, string>();
  private readonly storedStates = new Map<number, string>();
  private readonly writer: StudyWriter;
  private readonly logger: Logger;
  private prepared: PreparedDataset | undefined;
  private readonly lostDataset: RestoredStudy['lostDataset'];
  private window: StudyWindow;
  private slot: DeviceLeaseLike | undefined;
  private budgetTimer: NodeJS.Timeout | undefined;
  private waiting = false;

  constructor(
    private readonly deps: StudyRunDeps,
    private record: StudyRecord,
    private study: Study,
    restored: RestoredStudy = {},
  ) {
    this.signal = AbortSignal.any([
      deps.stopSignal,
      this.cancelController.signal,
      this.budgetController.signal,
    ]);
    this.prepared = restored.dataset;
    this.lostDataset = restored.lostDataset;
    this.window = parseStudyWindow(record.window);
    for (const t of restored.trials ?? []) {
      this.storedStates.set(t.trial, t.state);
      if (t.artifactPath !== '') this.artifacts.set(t.trial, t.artifactPath);
      if (t.device !== '') this.devicesOf.set(t.trial, t.device);
    }
    this.logger = deps.logger.child({ studyId: record.studyId, model: record.model });
    this.writer = new StudyWriter(deps.storage, this.logger);
  }

  get studyId(): string {
    return this.record.studyId;
  }
  get model(): string {
    return this.record.model;
  }
  /** Waiting for post-drift labels: such a study holds no study slot. */
  get waitingForLabels(): boolean {
    return this.waiting;
  }

  cancel(): void {
    this.cancelController.abort(new Error(CANCELLED));
  }

  // ---- persistence ----

  private persistStudy(state: StudyState, error = ''): void {
    const best = this.study.bestTrial();
    this.record = {
      ...this.record,
      updatedAtMs: this.deps.now(),
      state,
      snapshot: JSON.stringify(this.study.snapshot()),
      bestTrial: best?.number ?? -1,
      bestValue: best?.value ?? null,
      error,
      dataset: this.prepared === undefined ? this.record.dataset : JSON.stringify(this.prepared),
      window: JSON.stringify(this.window),
    };
    this.writer.study(this.record);
  }

  private persistTrial(trial: TrialRecord): void {
    const row: TrialRow = {
      studyId: this.record.studyId,
      model: this.record.model,
      trial: trial.number,
      state: trial.state === 'waiting' ? 'running' : trial.state,
      params: trial.params,
      value: trial.value ?? null,
      intermediate: trial.intermediate.map((r) => [r.step, r.value] as const),
      startedAtMs: trial.startedAtMs ?? this.deps.now(),
      finishedAtMs: trial.finishedAtMs ?? 0,
      device: this.devicesOf.get(trial.number) ?? '',
      updatedAtMs: this.deps.now(),
      failReason: trial.failReason ?? '',
      artifactPath: this.artifacts.get(trial.number) ?? '',
    };
    this.writer.trial(row);
    this.persistStudy('running');
  }

  // ---- the study ----

  async run(): Promise<StudyOutcome> {
    try {
      return await this.runPhases();
    } catch (error) {
      if (this.deps.stopSignal.aborted) {
        // The daemon is stopping: leave the study as it is stored so the next start resumes it.
        await this.writer.flush();
        this.logger.info('study interrupted by shutdown; it resumes on the next start');
        return { record: this.record, decision: undefined };
      }
      if (this.cancelController.signal.aborted) return await this.finish('cancelled', 'cancelled by request');
      if (!(error instanceof LabelWaitTimeout)) this.logger.error({ err: error }, 'study failed');
      return await this.finish('failed', (error as Error).message ?? String(error));
    } finally {
      clearTimeout(this.budgetTimer);
      this.leaveWaiting();
      this.slot?.release();
    }
  }

  private async runPhases(): Promise<StudyOutcome> {
    // A restore may have failed interrupted trials (onRestoreRunning: fail): store their new state.
    for (const trial of this.study.trials()) {
      const stored = this.storedStates.get(trial.number);
      if (stored !== undefined && trial.state !== 'waiting' && stored !== trial.state)
        this.persistTrial(trial);
    }
    this.deps.emit({ type: 'study.started', studyId: this.studyId, model: this.model });
    if (this.prepared === undefined && this.needsLabels()) await this.waitForLabels();
    this.persistStudy('running');
    this.slot = await this.deps.studySlots.acquire(this.signal);
    const prepared = this.prepared ?? (await this.prepareData());
    this.startBudget();
    await this.runTrials(prepared.ref);
    if (this.deps.stopSignal.aborted) {
      await this.writer.flush();
      this.logger.info('study interrupted by shutdown; it resumes on the next start');
      return { record: this.record, decision: undefined };
    }
    if (this.cancelController.signal.aborted) return this.finish('cancelled', 'cancelled by request');
    return this.evaluate(prepared);
  }

  /** A drift-triggered study that has not read its data yet. */
  private needsLabels(): boolean {
    return this.window.policy === 'drift-onset' && this.window.sinceMs === undefined;
  }

  private async waitForLabels(): Promise<void> {
    this.waiting = true;
    this.deps.metrics.studiesWaiting.inc();
    this.persistStudy('waiting');
    this.window = await waitForLabels(this.window, {
      model: this.model,
      datasets: this.deps.datasets,
      data: this.deps.config.data,
      now: this.deps.now,
      logger: this.logger,
      signal: this.signal,
      waitingSinceMs: this.record.createdAtMs,
      onCount: (window) => {
        this.window = window;
        const missing = Math.max(0, (window.neededRows ?? 0) - (window.labelledRows ?? 0));
        this.deps.metrics.labelsMissing.set({ model: this.model }, missing);
        this.persistStudy('waiting');
        this.deps.emit({
          type: 'study.waiting',
          studyId: this.studyId,
          model: this.model,
          labelledRows: window.labelledRows ?? 0,
          neededRows: window.neededRows ?? 0,
          onsetMs: window.onsetMs ?? Number.NaN,
        });
      },
    });
    this.leaveWaiting();
    // The wall-time budget counts training, not waiting: a study that has not run a trial is
    // re-created now (same options and seed, so the same suggestions).
    if (this.study.trials().length === 0)
      this.study = Study.create(this.study.snapshot().options, { clock: this.deps.now });
    this.logger.info({ window: this.window }, 'enough labelled rows after the drift onset; the study starts');
  }

  private leaveWaiting(): void {
    if (!this.waiting) return;
    this.waiting = false;
    this.deps.metrics.studiesWaiting.dec();
    this.deps.metrics.labelsMissing.remove({ model: this.model });
  }

  private async prepareData(): Promise<PreparedDataset> {
    const { config } = this.deps;
    const window: DataWindow =
      this.window.sinceMs !== undefined && this.window.untilMs !== undefined
        ? {
            policy: this.window.policy,
            sinceMs: this.window.sinceMs,
            untilMs: this.window.untilMs,
            ...(this.window.onsetMs === undefined ? {} : { onsetMs: this.window.onsetMs }),
          }
        : dataWindowAt(this.window, this.deps.now(), config.data.lookbackMs);
    const studyDir = pathInside(config.workDir, [this.studyId], 'study id');
    const dir = path.join(studyDir, 'dataset');
    await mkdir(dir, { recursive: true });
    const prepared = await this.deps.datasets.prepare({
      model: this.model,
      studyId: this.studyId,
      dir,
      holdoutDir: path.join(studyDir, 'holdout'),
      window,
      options: config.data,
      signal: this.signal,
    });
    this.checkSameData(prepared);
    this.prepared = prepared;
    this.window = { ...this.window, sinceMs: window.sinceMs, untilMs: window.untilMs };
    this.persistStudy('running');
    this.logger.info(
      { rows: prepared.ref.rows, holdout: prepared.holdout.rows, window: prepared.window },
      'dataset prepared',
    );
    return prepared;
  }

  /**
   * A resumed study whose dataset files were lost gets its data again from the same window. Its
   * finished trials were scored on the old validation set: if the new one differs (late labels,
   * a new reference profile), picking a winner across the two would compare unlike numbers.
   */
  private checkSameData(prepared: PreparedDataset): void {
    if (this.lostDataset === undefined) return;
    const finished = this.study.trials().filter((t) => t.state === 'complete' || t.state === 'pruned');
    if (finished.length === 0 || this.lostDataset.fingerprint === prepared.fingerprint) return;
    throw new Error(
      `the study's dataset files were lost and the data read again differs from what its ${finished.length} finished trials were scored on${this.lostDataset.fingerprint === undefined ? ' (prepared by an earlier driftguard)' : ''}; their values are not comparable with new trials, so the study stops here: start a new one`,
    );
  }

  private startBudget(): void {
    const remaining = this.study.createdAtMs + this.deps.config.budget.maxWallTimeMs - this.deps.now();
    this.budgetTimer = setTimeout(
      () => this.budgetController.abort(new Error('wall-time budget exhausted')),
      Math.max(0, remaining),
    );
    // The budget timer alone must not keep a stopping process alive.
    this.budgetTimer.unref();
  }

  private async runTrials(dataset: DatasetRef): Promise<void> {
    const running = new Map<number, Promise<void>>();
    const aborted = new Promise<void>((resolve) => {
      if (this.signal.aborted) resolve();
      this.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    for (;;) {
      if (this.signal.aborted) break;
      const next = this.study.ask();
      if (next.kind === 'trial') {
        const trial = next.trial;
        this.persistTrial(trial);
        this.deps.emit({
          type: 'trial.started',
          studyId: this.studyId,
          model: this.model,
          trial: trial.number,
          params: trial.params,
        });
        const task = this.runTrial(trial, dataset).finally(() => running.delete(trial.number));
        running.set(trial.number, task);
        continue;
      }
      if (running.size === 0) break;
      await Promise.race([...running.values(), aborted]);
    }
    await Promise.allSettled([...running.values()]);
  }

  private async runTrial(trial: TrialRecord, dataset: DatasetRef): Promise<void> {
    const n = trial.number;
    const pruneController = new AbortController();
    const trialSignal = AbortSignal.any([this.signal, pruneController.signal]);
    let lease;
    try {
      lease = await this.deps.devices.acquire(this.signal);
    } catch (error) {
      if (this.deps.stopSignal.aborted) return;
      this.tell(n, 'failed', undefined, `no device: ${(error as Error).message}`);
      return;
    }
    const startedMs = this.deps.now();
    if (lease.device !== undefined) this.devicesOf.set(n, lease.device);
    const artifactDir = pathInside(this.deps.config.workDir, [this.studyId, `trial-${n}`], 'study id');
    let outcome: { state: 'complete' | 'pruned' | 'failed'; value?: number; reason?: string };
    try {
      await mkdir(artifactDir, { recursive: true });
      const result = await this.deps.trainer.train({
        studyId: this.studyId,
        model: this.model,
        trialNumber: n,
        params: trial.params,
        dataset,
        objective: this.deps.config.objective.metric,
        ...(lease.device === undefined ? {} : { device: lease.device }),
        artifactDir,
        signal: trialSignal,
        report: (step, value) => {
          if (this.study.trial(n)?.state !== 'running')
            return { prune: true, reason: 'trial is no longer running' };
          const decision = this.study.report(n, step, value);
          const current = this.study.trial(n);
          if (current !== undefined) this.persistTrial(current);
          this.deps.emit({
            type: 'trial.reported',
            studyId: this.studyId,
            model: this.model,
            trial: n,
            step,
            value,
          });
          if (decision.prune) pruneController.abort(new Error('pruned'));
          return decision;
        },
      });
      if (result.artifactPath !== undefined) this.artifacts.set(n, result.artifactPath);
      outcome =
        result.pruned || pruneController.signal.aborted
          ? { state: 'pruned' }
          : { state: 'complete', value: result.objective };
    } catch (error) {
      outcome = pruneController.signal.aborted
        ? { state: 'pruned' }
        : { state: 'failed', reason: (error as Error).message ?? String(error) };
    } finally {
      lease.release();
    }
    if (this.deps.stopSignal.aborted) return; // not told: resumed (re-queued or failed) on restart
    if (this.cancelController.signal.aborted) outcome = { state: 'failed', reason: 'study cancelled' };
    else if (this.budgetController.signal.aborted && outcome.state === 'failed')
      outcome = { state: 'failed', reason: 'wall-time budget exhausted' };
    this.deps.metrics.trialSeconds.observe((this.deps.now() - startedMs) / 1000);
    this.tell(n, outcome.state, outcome.value, outcome.reason);
  }

  private tell(n: number, state: 'complete' | 'pruned' | 'failed', value?: number, reason?: string): void {
    let told: TrialRecord;
    try {
      told = this.study.tell(n, state, value);
    } catch (error) {
      if (error instanceof HpoError && error.code === 'HPO_STATE_INVALID') return;
      throw error;
    }
    if (reason !== undefined && told.failReason === undefined) told = { ...told, failReason: reason };
    this.deps.metrics.trials.inc({ model: this.model, state: told.state });
    this.persistTrial(told);
    const best = this.study.bestTrial();
    if (best?.value !== undefined) this.deps.metrics.bestValue.set({ model: this.model }, best.value);
    this.deps.emit({
      type: 'trial.finished',
      studyId: this.studyId,
      model: this.model,
      trial: n,
      state: told.state,
      value: told.value,
      bestTrial: best?.number,
      bestValue: best?.value,
    });
    this.logger.info({ trial: n, state: told.state, value: told.value, reason }, 'trial finished');
  }

  private async finish(state: StudyState, error = '', decision?: PromotionDecision): Promise<StudyOutcome> {
    this.persistStudy(state, error);
    await this.writer.flush();
    this.deps.emit({
      type: 'study.finished',
      studyId: this.studyId,
      model: this.model,
      state,
      error,
      promoted: decision?.promoted,
    });
    this.logger.info({ state, error, promoted: decision?.promoted }, 'study finished');
    const writeError = this.writer.writeError;
    if (writeError !== undefined)
      throw writeError instanceof Error ? writeError : new Error('could not persist the study');
    return { record: this.record, decision };
  }

  // ---- promotion (promotion-step.ts): scoreHoldout → decide → applyDecision ----

  private async evaluate(prepared: PreparedDataset): Promise<StudyOutcome> {
    const best = this.study.bestTrial();
    const counts = this.study.trials().reduce<Record<string, number>>((acc, t) => {
      acc[t.state] = (acc[t.state] ?? 0) + 1;
      return acc;
    }, {});
    if (best === undefined) return this.finish('failed', `no trial completed (${JSON.stringify(counts)})`);
    const artifact = this.artifacts.get(best.number);
    if (artifact === undefined)
      return this.finish('failed', `the best trial (${best.number}) saved no model artifact to evaluate`);
    const version = `${this.studyId}-t${best.number}`;
    const aliases = await this.deps.registry.aliases(this.model);
    // A restart between promotion and the end of the study: the work is done; record nothing twice.
    if (aliases.champion === version) return this.finish('completed');

    const step = new PromotionStep(this.deps, { studyId: this.studyId, model: this.model });
    const scored = await step.scoreHoldout(prepared, artifact, aliases.champion);
    const decision = await step.decide(scored, aliases.champion);
    const rows = { ...prepared.ref.rows, holdout: prepared.holdout.rows };
    const evidence = {
      ...decision.evidence,
      studyId: this.studyId,
      trial: best.number,
      params: best.params,
      objective: { metric: this.deps.config.objective.metric, value: best.value },
      pValue: decision.pValue,
      ciLow: decision.ciLow,
      test: decision.test,
      window: { ...prepared.window, rows },
      holdoutOnlyLabels: prepared.holdoutOnlyLabels,
      ...(scored.championEncoding === undefined ? {} : { championEncoding: scored.championEncoding }),
    };
    const onlyHoldout = Object.entries(prepared.holdoutOnlyLabels);
    const reason =
      `${decision.reason}; data: ${describeWindow(prepared.window, rows)}` +
      (onlyHoldout.length === 0
        ? ''
        : `; holdout labels no training row had (wrong for every model): ${onlyHoldout.map(([label, n]) => `${label} ×${n}`).join(', ')}`);
    const final = { ...decision, reason, evidence };
    await step.applyDecision(final, best, artifact, version, aliases.champion ?? '', prepared);
    const outcome = await this.finish('completed', '', final);
    await step.notify('retune.completed', `retune study ${this.studyId} completed: ${reason}`, {
      studyId: this.studyId,
      trials: counts,
      bestTrial: best.number,
      bestValue: best.value,
      promoted: final.promoted,
    });
    return outcome;
  }
}
