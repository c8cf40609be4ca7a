/**
 * One study from first trial to promotion decision. The engine decides (ask/report/tell); this
 * runs trials through the trainer, persists a row after every change (the snapshot holds the
 * whole study, so the last row written is enough to resume), and at the end scores the winner
 * and the champion on the holdout no trial saw and runs the promotion gate.
 *
 * Two ways to stop: `stop` (the daemon is shutting down: running trials are aborted and NOT
 * told, the study stays `running` in the store and a restart resumes it) and `cancel` (running
 * trials fail, the study ends `cancelled`).
 */
import { cp, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../kernel/logger.js';
import { retry } from '../../kernel/retry.js';
import { HpoError, type Study, type TrialRecord } from '../engine/index.js';
import { gateFrom, type RetuneConfig } from '../options.js';
import { decidePromotion, firstChampionDecision, type PromotionDecision } from '../promotion/index.js';
import type { ModelRegistry } from '../registry/index.js';
import type { RegistryStorage, StudyRecord, StudyState, StudyStorage, TrialRow } from '../store/types.js';
import type { DatasetRef, Trainer } from '../trainers/trainer.js';
import type { EventPublisher } from './events.js';
import { normalizeOutcome, readHoldoutLabels } from './holdout.js';
import type { RetuneMetrics } from './metrics.js';
import type { DatasetProvider, DeviceSlots, EventNotifier } from './ports.js';
import type { RetuneProgressEvent } from './progress.js';

export interface StudyRunDeps {
  readonly config: RetuneConfig;
  readonly storage: StudyStorage & RegistryStorage;
  readonly registry: ModelRegistry;
  readonly trainer: Trainer;
  readonly datasets: DatasetProvider;
  readonly devices: DeviceSlots;
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

const CANCELLED = 'cancelled';

export class StudyRun {
  private readonly cancelController = new AbortController();
  private readonly budgetController = new AbortController();
  private readonly signal: AbortSignal;
  private readonly artifacts = new Map<number, string>();
  private readonly devicesOf = new Map<number, string>();
  private readonly storedStates = new Map<number, string>();
  private pendingStudy: StudyRecord | undefined;
  private readonly pendingTrials = new Map<number, TrialRow>();
  private draining: Promise<void> | undefined;
  private writeError: unknown;
  private dataset: DatasetRef | undefined;
  private readonly logger: Logger;

  constructor(
    private readonly deps: StudyRunDeps,
    private record: StudyRecord,
    readonly study: Study,
    restored: { dataset?: DatasetRef; trials?: readonly TrialRow[] } = {},
  ) {
    this.signal = AbortSignal.any([
      deps.stopSignal,
      this.cancelController.signal,
      this.budgetController.signal,
    ]);
    this.dataset = restored.dataset;
    for (const t of restored.trials ?? []) {
      this.storedStates.set(t.trial, t.state);
      if (t.artifactPath !== '') this.artifacts.set(t.trial, t.artifactPath);
      if (t.device !== '') this.devicesOf.set(t.trial, t.device);
    }
    this.logger = deps.logger.child({ studyId: record.studyId, model: record.model });
  }

  get studyId(): string {
    return this.record.studyId;
  }
  get model(): string {
    return this.record.model;
  }

  cancel(): void {
    this.cancelController.abort(new Error(CANCELLED));
  }

  // ---- persistence ----
  // Every change produces the rows to write at once; a single writer drains them in order,
  // batching what piled up meanwhile (only the newest row per study and per trial: an older
  // one would be superseded anyway), so a trainer reporting every few milliseconds does not
  // become thousands of tiny ClickHouse inserts.

  private enqueueStudy(row: StudyRecord): void {
    this.pendingStudy = row;
    this.schedule();
  }

  private enqueueTrial(row: TrialRow): void {
    this.pendingTrials.set(row.trial, row);
    this.schedule();
  }

  private schedule(): void {
    if (this.draining !== undefined) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.pendingStudy !== undefined || this.pendingTrials.size > 0) this.schedule();
    });
  }

  private async drain(): Promise<void> {
    while (this.pendingStudy !== undefined || this.pendingTrials.size > 0) {
      const trials = [...this.pendingTrials.values()];
      this.pendingTrials.clear();
      const study = this.pendingStudy;
      this.pendingStudy = undefined;
      try {
        // The study row carries the engine snapshot that a resume restores from, so it is written
        // first: a trial row is never durable before the snapshot that knows its outcome, and a
        // daemon killed between the two inserts never repeats a trial it had completed.
        if (study !== undefined)
          await retry(() => this.deps.storage.saveStudy(study), { maxAttempts: 8, maxDelayMs: 5_000 });
        if (trials.length > 0)
          await retry(() => this.deps.storage.saveTrials(trials), { maxAttempts: 8, maxDelayMs: 5_000 });
      } catch (error) {
        this.writeError ??= error;
        this.logger.error({ err: error }, 'could not persist the study');
      }
    }
  }

  /** Resolves when everything changed so far is stored (or failed to be). */
  private async flush(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

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
      dataset: this.dataset === undefined ? this.record.dataset : JSON.stringify(this.dataset),
    };
    this.enqueueStudy(this.record);
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
    this.enqueueTrial(row);
    this.persistStudy('running');
  }

  // ---- the study ----

  async run(): Promise<StudyOutcome> {
    const started = this.deps.now();
    const remaining = this.record.createdAtMs + this.deps.config.budget.maxWallTimeMs - started;
    const budgetTimer = setTimeout(
      () => this.budgetController.abort(new Error('wall-time budget exhausted')),
      Math.max(0, remaining),
    );
    // The budget timer alone must not keep a stopping process alive.
    budgetTimer.unref();
    try {
      return await this.runUnsafe();
    } catch (error) {
      if (this.deps.stopSignal.aborted) {
        await this.flush();
        return { record: this.record, decision: undefined };
      }
      this.logger.error({ err: error }, 'study failed');
      return await this.finish('failed', (error as Error).message ?? String(error));
    } finally {
      clearTimeout(budgetTimer);
    }
  }

  private async runUnsafe(): Promise<StudyOutcome> {
    // A restore may have failed interrupted trials (onRestoreRunning: fail): store their new state.
    for (const trial of this.study.trials()) {
      const stored = this.storedStates.get(trial.number);
      if (stored !== undefined && trial.state !== 'waiting' && stored !== trial.state)
        this.persistTrial(trial);
    }
    this.persistStudy('running');
    this.deps.emit({ type: 'study.started', studyId: this.studyId, model: this.model });
    if (this.dataset === undefined) {
      const dir = path.join(this.deps.config.workDir, this.studyId, 'dataset');
      await mkdir(dir, { recursive: true });
      this.dataset = await this.deps.datasets({
        model: this.model,
        studyId: this.studyId,
        dir,
        options: this.deps.config.data,
        signal: this.signal,
      });
      this.persistStudy('running');
      this.logger.info({ rows: this.dataset.rows, dir: this.dataset.dir }, 'dataset prepared');
    }
    const dataset = this.dataset;

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

    if (this.deps.stopSignal.aborted) {
      // The daemon is stopping: leave the study `running` so the next start resumes it.
      await this.flush();
      this.logger.info('study interrupted by shutdown; it resumes on the next start');
      return { record: this.record, decision: undefined };
    }
    if (this.cancelController.signal.aborted) return this.finish('cancelled', 'cancelled by request');
    return this.evaluate(dataset);
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
    const artifactDir = path.join(this.deps.config.workDir, this.studyId, `trial-${n}`);
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
    await this.flush();
    this.deps.emit({
      type: 'study.finished',
      studyId: this.studyId,
      model: this.model,
      state,
      error,
      promoted: decision?.promoted,
    });
    this.logger.info({ state, error, promoted: decision?.promoted }, 'study finished');
    if (this.writeError !== undefined)
      throw this.writeError instanceof Error ? this.writeError : new Error('could not persist the study');
    return { record: this.record, decision };
  }

  // ---- promotion ----

  private async evaluate(dataset: DatasetRef): Promise<StudyOutcome> {
    const best = this.study.bestTrial();
    const counts = this.study.trials().reduce<Record<string, number>>((acc, t) => {
      acc[t.state] = (acc[t.state] ?? 0) + 1;
      return acc;
    }, {});
    if (best === undefined) {
      return this.finish('failed', `no trial completed (${JSON.stringify(counts)})`);
    }
    const artifact = this.artifacts.get(best.number);
    if (artifact === undefined) {
      return this.finish('failed', `the best trial (${best.number}) saved no model artifact to evaluate`);
    }
    const { trainer, config, registry, storage } = this.deps;
    const gate = gateFrom(config);
    const labels = await readHoldoutLabels(dataset);
    const challenger = (await trainer.predict(artifact, dataset, 'holdout')).map((v) =>
      normalizeOutcome(dataset, v),
    );
    const aliases = await registry.aliases(this.model);
    const version = `${this.studyId}-t${best.number}`;
    let decision: PromotionDecision;
    let championVersion = aliases.champion ?? '';
    if (aliases.champion === version) {
      // A restart between promotion and the end of the study: the work is done; record nothing twice.
      return this.finish('completed');
    }
    if (aliases.champion === undefined) {
      decision = firstChampionDecision(gate, labels, challenger);
    } else {
      const current = await registry.getVersion(this.model, aliases.champion);
      let championPredictions: Array<string | number> | undefined;
      let scoreError = '';
      try {
        if (current === undefined) throw new Error(`version ${aliases.champion} is not registered`);
        championPredictions = (await trainer.predict(current.artifactUri, dataset, 'holdout')).map((v) =>
          normalizeOutcome(dataset, v),
        );
      } catch (error) {
        scoreError = (error as Error).message;
      }
      decision =
        championPredictions === undefined
          ? {
              ...firstChampionDecision(gate, labels, challenger),
              promoted: false,
              test: 'none',
              reason: `rejected: the champion ${aliases.champion} could not be scored on this holdout (${scoreError}); promote by hand if intended`,
            }
          : decidePromotion(gate, { labels, champion: championPredictions, challenger });
    }
    championVersion = aliases.champion ?? '';
    const evidence = {
      ...decision.evidence,
      studyId: this.studyId,
      trial: best.number,
      params: best.params,
      objective: { metric: config.objective.metric, value: best.value },
      pValue: decision.pValue,
      ciLow: decision.ciLow,
      ciHigh: decision.ciHigh,
      test: decision.test,
    };

    if (decision.promoted) {
      const artifactUri = await this.storeArtifact(artifact, version);
      await registry.registerVersion({
        model: this.model,
        version,
        createdAtMs: this.deps.now(),
        studyId: this.studyId,
        trial: best.number,
        artifactUri,
        params: best.params,
        metrics: {
          [config.objective.metric]: best.value,
          [`holdout_${decision.metric}`]: decision.challengerValue,
        },
      });
      await registry.promote(this.model, version, { actor: 'retuner', reason: decision.reason, evidence });
      await this.announce({
        type: 'promotion',
        model: this.model,
        version,
        previous: championVersion === '' ? null : championVersion,
        metric: decision.metric,
        evidence,
      });
    }
    await storage.saveDecision({
      model: this.model,
      studyId: this.studyId,
      decidedAtMs: this.deps.now(),
      challengerVersion: version,
      championVersion,
      promoted: decision.promoted,
      metric: decision.metric,
      championValue: decision.championValue,
      challengerValue: decision.challengerValue,
      improvement: decision.improvement,
      pValue: decision.pValue,
      ciLow: decision.ciLow,
      ciHigh: decision.ciHigh,
      test: decision.test,
      reason: decision.reason,
      evidence,
    });
    this.deps.metrics.promotions.inc({
      model: this.model,
      decision: decision.promoted ? 'promoted' : 'rejected',
    });
    this.deps.emit({
      type: 'promotion.decided',
      studyId: this.studyId,
      model: this.model,
      promoted: decision.promoted,
      reason: decision.reason,
    });
    const outcome = await this.finish('completed', '', decision);
    await this.notify('retune.completed', `retune study ${this.studyId} completed: ${decision.reason}`, {
      studyId: this.studyId,
      trials: counts,
      bestTrial: best.number,
      bestValue: best.value,
      promoted: decision.promoted,
    });
    return outcome;
  }

  private async storeArtifact(artifact: string, version: string): Promise<string> {
    const dir = path.resolve(this.deps.config.modelStoreDir, this.model, version);
    await mkdir(dir, { recursive: true });
    const info = await stat(artifact);
    if (info.isDirectory()) {
      await cp(artifact, dir, { recursive: true });
      return dir;
    }
    const target = path.join(dir, path.basename(artifact));
    await cp(artifact, target);
    return target;
  }

  private async announce(event: {
    type: 'promotion';
    model: string;
    version: string;
    previous: string | null;
    metric: string;
    evidence: Record<string, unknown>;
  }): Promise<void> {
    try {
      await this.deps.publisher?.publish(event);
    } catch (error) {
      this.logger.error({ err: error }, 'could not publish the promotion event to Kafka');
    }
    await this.notify(
      'promotion',
      `${this.model}: ${event.version} promoted to champion (was ${event.previous ?? 'none'})`,
      {
        version: event.version,
        previous: event.previous,
        metric: event.metric,
        evidence: event.evidence,
      },
    );
  }

  private async notify(kind: string, summary: string, details: Record<string, unknown>): Promise<void> {
    try {
      await this.deps.notifier?.notifyEvent({ model: this.model, kind, summary, details });
    } catch (error) {
      this.logger.error({ err: error, kind }, 'could not send the event to the alert sinks');
    }
  }
}
