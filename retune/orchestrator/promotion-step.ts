/**
 * The end of a study: score the challenger and the champion on the holdout, each with its own
 * encoding (scoreHoldout), run the gate at this champion's test index (decide), and record,
 * register, promote and announce (applyDecision). One instance per study.
 */
import { cp, mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../kernel/logger.js';
import { pathInside } from '../../kernel/safe-path.js';
import { parseScoringSpec, SCORING_FILE, type PreparedDataset } from '../data/scoring.js';
import type { TrialRecord } from '../engine/index.js';
import { gateFrom, type RetuneConfig } from '../options.js';
import { decidePromotion, firstChampionDecision, type PromotionDecision } from '../promotion/index.js';
import type { ModelRegistry } from '../registry/index.js';
import type { RegistryStorage } from '../store/types.js';
import type { Trainer } from '../trainers/trainer.js';
import type { EventPublisher } from './events.js';
import { championTestIndex, readHoldoutTruth, scoreVersion } from './holdout.js';
import type { RetuneMetrics } from './metrics.js';
import type { EventNotifier } from './ports.js';
import type { RetuneProgressEvent } from './progress.js';

export interface PromotionStepDeps {
  readonly config: RetuneConfig;
  readonly storage: RegistryStorage;
  readonly registry: ModelRegistry;
  readonly trainer: Trainer;
  readonly publisher: EventPublisher | undefined;
  readonly notifier: EventNotifier | undefined;
  readonly metrics: RetuneMetrics;
  readonly logger: Logger;
  readonly now: () => number;
  readonly emit: (event: RetuneProgressEvent) => void;
}

export interface ScoredHoldout {
  readonly labels: ReadonlyArray<string | number>;
  readonly challenger: Array<string | number>;
  readonly champion?: Array<string | number>;
  readonly championError?: string;
  readonly championEncoding?: string;
}

export class PromotionStep {
  constructor(
    private readonly deps: PromotionStepDeps,
    private readonly study: { readonly studyId: string; readonly model: string },
  ) {}

  /** Challenger and champion predictions on the holdout, each encoded with its own spec. */
  async scoreHoldout(
    prepared: PreparedDataset,
    artifact: string,
    champion: string | undefined,
  ): Promise<ScoredHoldout> {
    const { trainer, config, registry } = this.deps;
    const scoreDir = (tag: string): string =>
      pathInside(config.workDir, [this.study.studyId, 'score', tag], 'study id');
    const truth = await readHoldoutTruth(prepared.holdout, prepared.scoring.task);
    const challenger = await scoreVersion(trainer, artifact, prepared.scoring, truth, scoreDir('challenger'));
    if (champion === undefined) return { labels: truth.labels, challenger };
    let championEncoding = 'its own (stored with the version)';
    try {
      const current = await registry.getVersion(this.study.model, champion);
      if (current === undefined) throw new Error(`version ${champion} is not registered`);
      let spec = parseScoringSpec(current.scoring);
      if (spec === undefined) {
        // Registered before versions carried their encoding: the study's is the best guess.
        spec = prepared.scoring;
        championEncoding = "this study's (the version stores none)";
      }
      const predictions = await scoreVersion(trainer, current.artifactUri, spec, truth, scoreDir('champion'));
      return { labels: truth.labels, challenger, champion: predictions, championEncoding };
    } catch (error) {
      return { labels: truth.labels, challenger, championError: (error as Error).message, championEncoding };
    }
  }

  async decide(scored: ScoredHoldout, champion: string | undefined): Promise<PromotionDecision> {
    const gate = gateFrom(this.deps.config);
    if (champion === undefined) return firstChampionDecision(gate, scored.labels, scored.challenger);
    if (scored.champion === undefined)
      return {
        ...firstChampionDecision(gate, scored.labels, scored.challenger),
        promoted: false,
        test: 'none',
        reason: `rejected: the champion ${champion} could not be scored on this holdout (${scored.championError ?? 'unknown error'}); promote by hand if intended`,
      };
    const testIndex = await championTestIndex(
      this.deps.storage,
      this.study.model,
      champion,
      this.study.studyId,
    );
    return decidePromotion(
      gate,
      { labels: scored.labels, champion: scored.champion, challenger: scored.challenger },
      { testIndex },
    );
  }

  async applyDecision(
    decision: PromotionDecision,
    best: TrialRecord,
    artifact: string,
    version: string,
    championVersion: string,
    prepared: PreparedDataset,
  ): Promise<void> {
    const { config, registry, storage } = this.deps;
    if (decision.promoted) {
      const artifactUri = await this.storeArtifact(artifact, version, prepared);
      await registry.registerVersion({
        model: this.study.model,
        version,
        createdAtMs: this.deps.now(),
        studyId: this.study.studyId,
        trial: best.number,
        artifactUri,
        params: best.params,
        metrics: {
          [config.objective.metric]: best.value,
          [`holdout_${decision.metric}`]: decision.challengerValue,
        },
        scoring: prepared.scoring,
      });
      await registry.promote(this.study.model, version, {
        actor: 'retuner',
        reason: decision.reason,
        evidence: decision.evidence,
      });
      await this.announce({
        type: 'promotion',
        model: this.study.model,
        version,
        previous: championVersion === '' ? null : championVersion,
        metric: decision.metric,
        evidence: decision.evidence,
      });
    }
    await storage.saveDecision({
      model: this.study.model,
      studyId: this.study.studyId,
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
      evidence: decision.evidence,
    });
    this.deps.metrics.promotions.inc({
      model: this.study.model,
      decision: decision.promoted ? 'promoted' : 'rejected',
    });
    this.deps.emit({
      type: 'promotion.decided',
      studyId: this.study.studyId,
      model: this.study.model,
      promoted: decision.promoted,
      reason: decision.reason,
    });
  }

  /**
   * Copies the winner to `<modelStoreDir>/<model>/<version>/` (a path that provably stays inside
   * the store, whatever the names) with its scoring spec beside it: what serving needs to encode
   * inputs the way the model was trained.
   */
  private async storeArtifact(artifact: string, version: string, prepared: PreparedDataset): Promise<string> {
    const dir = pathInside(
      this.deps.config.modelStoreDir,
      [this.study.model, version],
      'model or version name',
    );
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, SCORING_FILE), `${JSON.stringify(prepared.scoring, null, 2)}\n`);
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
      this.deps.logger.error({ err: error }, 'could not publish the promotion event to Kafka');
    }
    await this.notify(
      'promotion',
      `${this.study.model}: ${event.version} promoted to champion (was ${event.previous ?? 'none'})`,
      {
        version: event.version,
        previous: event.previous,
        metric: event.metric,
        evidence: event.evidence,
      },
    );
  }

  async notify(kind: string, summary: string, details: Record<string, unknown>): Promise<void> {
    try {
      await this.deps.notifier?.notifyEvent({ model: this.study.model, kind, summary, details });
    } catch (error) {
      this.deps.logger.error({ err: error, kind }, 'could not send the event to the alert sinks');
    }
  }
}
