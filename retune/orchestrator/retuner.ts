/**
 * The retune subsystem's one entry point for the daemon.
 *
 *     const retuner = new Retuner({ store, config: config.retune, trainer, datasets,
 *                                   logger, registry, publisher, notifier: alerting, devices });
 *     // migrations: RETUNE_MIGRATIONS go into the daemon's list
 *     await retuner.start();                       // resumes studies left running by a restart
 *     retuner.onHealth(model, status);             // from the monitor, each evaluation
 *     await retuner.trigger(model, { source: 'api' });
 *     await retuner.stop();                        // running studies stay resumable
 *
 * Lifecycle: created → started → stopped (stop is idempotent; trigger after stop is refused).
 */
import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Registry } from 'prom-client';
import type { Logger } from '../../kernel/logger.js';
import { segmentProblem } from '../../kernel/safe-path.js';
import type { Store } from '../../kernel/store.js';
import type { PreparedDataset } from '../data/scoring.js';
import { Rng, Study } from '../engine/index.js';
import { compileRetuneOptions, studyOptionsFrom, type RetuneConfig } from '../options.js';
import { ModelRegistry, RetuneError, type AliasChange } from '../registry/index.js';
import { ClickHouseRetuneStore } from '../store/clickhouse-retune-store.js';
import type {
  AliasEvent,
  DecisionRecord,
  ModelVersion,
  RegistryStorage,
  StudyQuery,
  StudyRecord,
  StudyStorage,
  StudyTrigger,
  TrialRow,
} from '../store/types.js';
import { reapOrphanedTrials } from '../trainers/command/orphans.js';
import type { EventPublisher } from './events.js';
import { createRetuneMetrics, type RetuneMetrics } from './metrics.js';
import {
  CpuSlots,
  type DatasetProvider,
  type DeviceSlots,
  type EventNotifier,
  type TrainerProvider,
} from './ports.js';
import type { RetuneProgressEvent, RetuneProgressListener } from './progress.js';
import { StudyRun, type RestoredStudy, type StudyOutcome } from './study-run.js';
import { initialWindow } from './window.js';

const MODEL_NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

export interface RetunerDeps {
  /** Storage: give `store` (the storage port), or `storage` (any adapter of both retune ports). */
  readonly store?: Store;
  readonly storage?: StudyStorage & RegistryStorage;
  /** The `retune:` config section, raw or already parsed by `retuneSchema`. */
  readonly config: unknown;
  readonly trainer: TrainerProvider;
  readonly datasets: DatasetProvider;
  /** @default `budget.maxConcurrentTrials` CPU slots */
  readonly devices?: DeviceSlots;
  /** Kafka `driftguard.events` (the daemon's is src/kafka/event-publisher.ts). @default none */
  readonly publisher?: EventPublisher;
  /** Alerting (`notifyEvent`). @default none */
  readonly notifier?: EventNotifier;
  readonly logger: Logger;
  /** Prometheus registry for the retune metrics. */
  readonly registry: Registry;
  /** @default Date.now */
  readonly now?: () => number;
}

export interface TriggerOptions {
  readonly source: StudyTrigger;
  /** Ignore the cooldown (an operator's explicit request). @default false */
  readonly force?: boolean;
  /**
   * Monitor triggers: when the model's drift began (the start of the first window of its current
   * unhealthy streak). The study then learns from rows after it (`retune.data.afterDrift`).
   */
  readonly driftOnsetMs?: number;
}

/** What the monitor knows beside a model's status. */
export interface HealthContext {
  /** The start of the first evaluation window of the model's current non-ok streak. */
  readonly driftOnsetMs?: number;
  /** Ids of the whole model's rules breaching in this evaluation (`triggers.rules` matches them). */
  readonly breachingRules?: readonly string[];
}

/** Whether a breaching rule matches a `triggers.rules` pattern (exact, or a prefix ending in `*`). */
export function ruleTriggers(patterns: readonly string[], breaching: readonly string[]): string | undefined {
  for (const rule of breaching) {
    for (const p of patterns) if (p.endsWith('*') ? rule.startsWith(p.slice(0, -1)) : rule === p) return rule;
  }
  return undefined;
}

export interface TriggerResult {
  readonly studyId: string;
  readonly model: string;
}

export interface StudyView extends StudyRecord {
  readonly trials: readonly TrialRow[];
  /** Whether this process is running the study now. */
  readonly live: boolean;
}

type Lifecycle = 'created' | 'started' | 'stopping' | 'stopped';

export class Retuner {
  readonly config: Readonly<RetuneConfig>;
  readonly registry: ModelRegistry;
  readonly storage: StudyStorage & RegistryStorage;
  private readonly metrics: RetuneMetrics;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly devices: DeviceSlots;
  /** Studies that train at once (`triggers.maxConcurrentStudies`); one waiting for labels holds none. */
  private readonly studySlots: DeviceSlots;
  private readonly stopController = new AbortController();
  private readonly runs = new Map<string, { run: StudyRun; done: Promise<StudyOutcome> }>();
  /** Per model: consecutive health evaluations in a trigger state (see `triggers.consecutiveEvaluations`). */
  private readonly healthStreaks = new Map<string, number>();
  private readonly lastStart = new Map<string, number>();
  private readonly listeners = new Set<RetuneProgressListener>();
  /** Triggers are serialised so two at once cannot both pass the concurrency check. */
  private triggerQueue: Promise<unknown> = Promise.resolve();
  private state: Lifecycle = 'created';

  constructor(private readonly deps: RetunerDeps) {
    this.config = compileRetuneOptions(deps.config);
    if (deps.storage !== undefined) this.storage = deps.storage;
    else if (deps.store !== undefined) this.storage = new ClickHouseRetuneStore(deps.store, deps.now);
    else throw new RetuneError('RETUNE_INVALID', 'Retuner needs either `storage` or `store`');
    this.now = deps.now ?? Date.now;
    this.logger = deps.logger.child({ component: 'retune' });
    this.metrics = createRetuneMetrics(deps.registry);
    this.devices = deps.devices ?? new CpuSlots(this.config.budget.maxConcurrentTrials);
    this.studySlots = new CpuSlots(this.config.triggers.maxConcurrentStudies);
    this.registry = new ModelRegistry({ storage: this.storage, now: this.now });
  }

  /** Resumes the studies the store says are running (left so by a stop or a crash). */
  async start(): Promise<void> {
    if (this.state !== 'created') return;
    this.state = 'started';
    if (!this.config.enabled) {
      this.logger.info('retune is disabled: studies left running are not resumed');
      return;
    }
    // Trials a killed daemon left running would hold their devices, and be run again below.
    await reapOrphanedTrials(this.config.workDir, { logger: this.logger }).catch((error: unknown) =>
      this.logger.warn({ err: error }, 'could not look for trial processes left by a dead daemon'),
    );
    const running = [
      ...(await this.storage.listStudies({ state: 'running', limit: 1000 })),
      ...(await this.storage.listStudies({ state: 'waiting', limit: 1000 })),
    ];
    for (const record of running) {
      if (this.runs.has(record.studyId)) continue;
      try {
        await this.resume(record);
      } catch (error) {
        this.logger.error(
          { err: error, studyId: record.studyId },
          'could not resume study; marking it failed',
        );
        await this.storage.saveStudy({
          ...record,
          state: 'failed',
          updatedAtMs: this.now(),
          error: `could not resume: ${(error as Error).message}`,
        });
      }
    }
    this.logger.info({ resumed: running.length }, 'retuner started');
  }

  /** Stops running studies without finishing them (they resume on the next start). Idempotent. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') {
      await Promise.allSettled([...this.runs.values()].map((r) => r.done));
      return;
    }
    this.state = 'stopping';
    this.stopController.abort(new Error('retuner stopping'));
    await Promise.allSettled([...this.runs.values()].map((r) => r.done));
    this.state = 'stopped';
    this.logger.info('retuner stopped');
  }

  /** Subscribes to progress events; returns the unsubscribe function. */
  onProgress(listener: RetuneProgressListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Starts a study for `model` now (it runs in the background; see `waitForStudy`). Refused with
   * RETUNE_REFUSED during the cooldown, beyond `maxConcurrentStudies`, or when the model already
   * has a study running.
   */
  trigger(model: string, options: TriggerOptions): Promise<TriggerResult> {
    const next = this.triggerQueue.catch(() => undefined).then(() => this.triggerNow(model, options));
    this.triggerQueue = next;
    return next;
  }

  /**
   * The monitor's hook: starts a study when `status` is one of `triggers.states` or a breaching rule
   * matches `triggers.rules`; never throws for policy refusals. `context.driftOnsetMs` anchors the
   * study's data after the drift.
   */
  async onHealth(
    model: string,
    status: string,
    context: HealthContext = {},
  ): Promise<TriggerResult | undefined> {
    if (!this.config.enabled) return undefined;
    const byRule = ruleTriggers(this.config.triggers.rules, context.breachingRules ?? []);
    if (!(this.config.triggers.states as readonly string[]).includes(status) && byRule === undefined) {
      this.healthStreaks.delete(model);
      return undefined;
    }
    if (this.config.models.length > 0 && !this.config.models.includes(model)) return undefined;
    const streak = (this.healthStreaks.get(model) ?? 0) + 1;
    this.healthStreaks.set(model, streak);
    const needed = this.config.triggers.consecutiveEvaluations;
    if (streak < needed) {
      this.logger.debug({ model, status, streak, needed }, 'health trigger waits for more evaluations');
      return undefined;
    }
    if (byRule !== undefined) this.logger.info({ model, status, rule: byRule }, 'retune triggered by a rule');
    try {
      return await this.trigger(model, {
        source: 'monitor',
        ...(context.driftOnsetMs === undefined ? {} : { driftOnsetMs: context.driftOnsetMs }),
      });
    } catch (error) {
      if (error instanceof RetuneError && error.code === 'RETUNE_REFUSED') {
        this.logger.debug({ model, status, reason: error.message }, 'health trigger refused');
        return undefined;
      }
      // A model name from the stream that cannot be retuned (e.g. ".."): say so, never throw at the monitor.
      if (error instanceof RetuneError && error.code === 'RETUNE_INVALID') {
        this.logger.warn({ model, status, reason: error.message }, 'health trigger ignored');
        return undefined;
      }
      throw error;
    }
  }

  /**
   * Another replica evaluates `model` now: forget its trigger streak (the new owner counts anew)
   * and, unless a study of it still runs here, stop exporting its best-value gauge.
   */
  release(model: string): void {
    this.healthStreaks.delete(model);
    for (const { run } of this.runs.values()) if (run.model === model) return;
    this.metrics.bestValue.remove({ model });
  }

  /** Resolves when the study ends in this process (completed, failed, cancelled or stopped). */
  async waitForStudy(studyId: string): Promise<StudyOutcome> {
    const entry = this.runs.get(studyId);
    if (entry !== undefined) return entry.done;
    const record = await this.storage.getStudy(studyId);
    if (record === undefined) throw new RetuneError('RETUNE_NOT_FOUND', `no study ${studyId}`, { studyId });
    return { record, decision: undefined };
  }

  /** Cancels a running study: its running trials fail and it ends `cancelled`. */
  cancel(studyId: string): boolean {
    const entry = this.runs.get(studyId);
    entry?.run.cancel();
    return entry !== undefined;
  }

  async getStudy(studyId: string): Promise<StudyView | undefined> {
    const record = await this.storage.getStudy(studyId);
    if (record === undefined) return undefined;
    return { ...record, trials: await this.storage.listTrials(studyId), live: this.runs.has(studyId) };
  }

  listStudies(query: StudyQuery = {}): Promise<StudyRecord[]> {
    return this.storage.listStudies(query);
  }

  versions(model: string): Promise<ModelVersion[]> {
    return this.registry.versions(model);
  }

  async aliases(
    model: string,
  ): Promise<{ champion: string | undefined; challenger: string | undefined; history: AliasEvent[] }> {
    const [current, history] = await Promise.all([
      this.registry.aliases(model),
      this.registry.history(model),
    ]);
    return { ...current, history };
  }

  decisions(model: string): Promise<DecisionRecord[]> {
    return this.storage.listDecisions(model);
  }

  /** A manual promotion (API/CLI): audited, announced on Kafka and to the alert sinks. */
  async promote(
    model: string,
    version: string,
    options: { actor: string; reason?: string; dryRun?: boolean },
  ): Promise<AliasChange> {
    const change = await this.registry.promote(model, version, {
      actor: options.actor,
      reason: options.reason ?? 'manual promotion',
      evidence: { manual: true },
      dryRun: options.dryRun === true,
    });
    if (!change.dryRun) {
      await this.announce(
        'promotion',
        change,
        `${model}: ${version} promoted to champion by ${options.actor}`,
      );
    }
    return change;
  }

  async rollback(
    model: string,
    options: { actor: string; reason?: string; to?: string; dryRun?: boolean },
  ): Promise<AliasChange> {
    const change = await this.registry.rollback(model, {
      actor: options.actor,
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(options.to === undefined ? {} : { to: options.to }),
      dryRun: options.dryRun === true,
    });
    if (!change.dryRun) {
      await this.announce(
        'rollback',
        change,
        `${model}: champion rolled back from ${change.event.previousVersion} to ${change.event.version} by ${options.actor}`,
      );
    }
    return change;
  }

  // ---- internals ----

  private emit(event: RetuneProgressEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn({ err: error }, 'progress listener threw');
      }
    }
  }

  private trainerFor(model: string) {
    const provider = this.deps.trainer;
    return typeof provider === 'function' ? provider(model) : provider;
  }

  private async triggerNow(model: string, options: TriggerOptions): Promise<TriggerResult> {
    if (!MODEL_NAME.test(model)) {
      throw new RetuneError(
        'RETUNE_INVALID',
        `model name ${JSON.stringify(model)} must match ${MODEL_NAME.source}`,
      );
    }
    // The name becomes a folder of the model store: "." and ".." match the pattern but would
    // write outside it.
    const problem = segmentProblem(model);
    if (problem !== undefined)
      throw new RetuneError(
        'RETUNE_INVALID',
        `model name ${JSON.stringify(model)} cannot name a folder of the model store: ${problem}`,
      );
    if (!this.config.enabled) {
      throw new RetuneError('RETUNE_REFUSED', 'retune is disabled: set retune.enabled: true to run studies');
    }
    if (this.state !== 'started') {
      throw new RetuneError(
        'RETUNE_REFUSED',
        `the retuner is ${this.state}; studies start only while it runs`,
      );
    }
    const all = [...this.runs.values()];
    const same = all.find((r) => r.run.model === model);
    if (same !== undefined) {
      throw new RetuneError(
        'RETUNE_REFUSED',
        `${model} already has study ${same.run.studyId} ${same.run.waitingForLabels ? 'waiting for labels' : 'running'}`,
        { studyId: same.run.studyId },
      );
    }
    // Studies waiting for post-drift labels use no trainer: they do not count.
    const active = all.filter((r) => !r.run.waitingForLabels);
    if (active.length >= this.config.triggers.maxConcurrentStudies) {
      throw new RetuneError(
        'RETUNE_REFUSED',
        `${active.length} studies are running, the most allowed (retune.triggers.maxConcurrentStudies = ${this.config.triggers.maxConcurrentStudies}); retry when one ends`,
      );
    }
    if (options.force !== true && this.config.triggers.cooldownMs > 0) {
      const last = this.lastStart.get(model) ?? (await this.storage.lastStudyCreatedAt(model));
      const wait = last === undefined ? 0 : last + this.config.triggers.cooldownMs - this.now();
      if (wait > 0) {
        throw new RetuneError(
          'RETUNE_REFUSED',
          `${model} was retuned less than retune.triggers.cooldownMs (${this.config.triggers.cooldownMs} ms) ago; next study allowed in ${Math.ceil(wait / 1000)} s (or force it)`,
          { retryAfterMs: wait },
        );
      }
    }
    const createdAtMs = this.now();
    const studyId = `st-${createdAtMs.toString(36)}-${randomBytes(4).toString('hex')}`;
    // Each study samples its own sequence (a retune of the same model on fresh data should not
    // replay the previous study's suggestions); the seed is stored, so a resume replays exactly.
    const seed = Rng.derive(this.config.seed, studyId).nextUint32();
    const study = Study.create(
      { ...studyOptionsFrom(this.config, `${model}/${studyId}`), seed },
      { clock: this.now },
    );
    const window = initialWindow(
      {
        source: options.source,
        ...(options.driftOnsetMs === undefined ? {} : { driftOnsetMs: options.driftOnsetMs }),
      },
      this.config.data,
    );
    const record: StudyRecord = {
      studyId,
      model,
      createdAtMs: study.createdAtMs,
      updatedAtMs: createdAtMs,
      state: window.policy === 'drift-onset' ? 'waiting' : 'running',
      trigger: options.source,
      direction: this.config.objective.direction,
      objective: this.config.objective.metric,
      sampler: this.config.sampler.name,
      pruner: this.config.pruner.name,
      seed,
      maxTrials: this.config.budget.maxTrials,
      snapshot: JSON.stringify(study.snapshot()),
      bestTrial: -1,
      bestValue: null,
      error: '',
      dataset: '',
      window: JSON.stringify(window),
    };
    // Persisted before returning, so the id the caller gets can be read back at once.
    await this.storage.saveStudy(record);
    this.lastStart.set(model, createdAtMs);
    this.launch(new StudyRun(this.runDeps(model), record, study));
    this.logger.info({ model, studyId, source: options.source, window }, 'study started');
    return { studyId, model };
  }

  private async resume(record: StudyRecord): Promise<void> {
    const study = Study.restore(
      JSON.parse(record.snapshot),
      { clock: this.now },
      {
        onRestoreRunning: this.config.onRestoreRunning,
      },
    );
    const trials = await this.storage.listTrials(record.studyId);
    const data = await restoredDataset(record.dataset);
    const requeued = study
      .trials()
      .filter((t) => t.state === 'waiting')
      .map((t) => t.number);
    this.logger.info(
      { studyId: record.studyId, model: record.model, trials: study.trials().length, requeued },
      'resuming study',
    );
    this.lastStart.set(record.model, record.createdAtMs);
    this.launch(new StudyRun(this.runDeps(record.model), record, study, { ...data, trials }));
  }

  private runDeps(model: string) {
    return {
      config: this.config,
      storage: this.storage,
      registry: this.registry,
      trainer: this.trainerFor(model),
      datasets: this.deps.datasets,
      devices: this.devices,
      studySlots: this.studySlots,
      publisher: this.deps.publisher,
      notifier: this.deps.notifier,
      metrics: this.metrics,
      logger: this.logger,
      now: this.now,
      emit: (event: RetuneProgressEvent) => this.emit(event),
      stopSignal: this.stopController.signal,
    };
  }

  private launch(run: StudyRun): void {
    this.metrics.studiesRunning.inc();
    const done = run.run().finally(() => {
      this.runs.delete(run.studyId);
      this.metrics.studiesRunning.dec();
    });
    // Failures are recorded on the study by StudyRun; this only keeps them from going unhandled.
    done.catch((error: unknown) =>
      this.logger.error({ err: error, studyId: run.studyId }, 'study run crashed'),
    );
    this.runs.set(run.studyId, { run, done });
  }

  private async announce(
    type: 'promotion' | 'rollback',
    change: AliasChange,
    summary: string,
  ): Promise<void> {
    const { event } = change;
    // A manual promotion counts as promoted; a rollback is not a gate decision and is not counted.
    if (type === 'promotion') this.metrics.promotions.inc({ model: event.model, decision: 'promoted' });
    try {
      await this.deps.publisher?.publish({
        type,
        model: event.model,
        version: event.version,
        previous: event.previousVersion === '' ? null : event.previousVersion,
        actor: event.actor,
        reason: event.reason,
        evidence: event.evidence,
      });
    } catch (error) {
      this.logger.error({ err: error, type }, 'could not publish the event to Kafka');
    }
    try {
      await this.deps.notifier?.notifyEvent({
        model: event.model,
        kind: type,
        summary,
        details: {
          version: event.version,
          previous: event.previousVersion,
          actor: event.actor,
          reason: event.reason,
        },
      });
    } catch (error) {
      this.logger.error({ err: error, type }, 'could not send the event to the alert sinks');
    }
  }
}

/**
 * The prepared dataset of a study being resumed: reused (same holdout, same validation set) when
 * its files survived; otherwise its fingerprint, so the re-prepared data can be compared.
 */
async function restoredDataset(text: string): Promise<Pick<RestoredStudy, 'dataset' | 'lostDataset'>> {
  if (text === '') return {};
  const stored = JSON.parse(text) as Partial<PreparedDataset>;
  if (stored.ref === undefined || stored.holdout === undefined || stored.fingerprint === undefined)
    return { lostDataset: { fingerprint: undefined } }; // an earlier driftguard's layout
  const files = [
    path.join(stored.ref.dir, 'train.jsonl'),
    path.join(stored.ref.dir, 'validation.jsonl'),
    path.join(stored.holdout.dir, 'holdout.jsonl'),
  ];
  for (const file of files)
    if (!(await exists(file))) return { lostDataset: { fingerprint: stored.fingerprint } };
  return { dataset: stored as PreparedDataset };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
