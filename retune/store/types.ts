/** Rows of the retune tables, as the orchestrator and registry see them (times in epoch ms). */

/** `waiting`: created, waiting for enough labelled rows after a drift onset before it trains. */
export type StudyState = 'waiting' | 'running' | 'completed' | 'failed' | 'cancelled';
export type StudyTrigger = 'monitor' | 'manual' | 'api';
export type StoredTrialState = 'running' | 'complete' | 'pruned' | 'failed';

export interface StudyRecord {
  readonly studyId: string;
  readonly model: string;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
  readonly state: StudyState;
  readonly trigger: StudyTrigger;
  readonly direction: string;
  readonly objective: string;
  readonly sampler: string;
  readonly pruner: string;
  readonly seed: number;
  /** 0 = no limit. */
  readonly maxTrials: number;
  /** The engine's StudySnapshot as JSON text. */
  readonly snapshot: string;
  /** -1 when no trial has completed. */
  readonly bestTrial: number;
  readonly bestValue: number | null;
  /** Why the study failed, or ''. */
  readonly error: string;
  /** The PreparedDataset as JSON text ('' before it is prepared), so a resumed study reuses its holdout. */
  readonly dataset: string;
  /**
   * The data window as JSON text (`StudyWindow`): its policy and bounds, and while the study waits
   * for labels the rows counted so far; '' on rows written before it existed.
   */
  readonly window: string;
}

export interface TrialRow {
  readonly studyId: string;
  readonly model: string;
  readonly trial: number;
  readonly state: StoredTrialState;
  readonly params: Readonly<Record<string, unknown>>;
  readonly value: number | null;
  readonly intermediate: readonly (readonly [number, number])[];
  readonly startedAtMs: number;
  /** 0 while running. */
  readonly finishedAtMs: number;
  readonly device: string;
  readonly updatedAtMs: number;
  readonly failReason: string;
  /** Where the trainer saved the trial's model, or ''. */
  readonly artifactPath: string;
}

export interface ModelVersion {
  readonly model: string;
  readonly version: string;
  readonly createdAtMs: number;
  readonly studyId: string;
  /** -1 when the version did not come from a trial (registered by hand). */
  readonly trial: number;
  readonly artifactUri: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly metrics: Readonly<Record<string, unknown>>;
  /**
   * What scoring the version needs (retune/data `ScoringSpec`: encoding, columns, classes), as
   * stored; undefined for versions registered before versions carried it.
   */
  readonly scoring?: unknown;
}

export type AliasName = 'champion' | 'challenger';
export type AliasAction = 'promote' | 'rollback' | 'set';

export interface AliasEvent {
  readonly model: string;
  readonly alias: AliasName;
  /** '' when the alias was cleared. */
  readonly version: string;
  readonly previousVersion: string;
  readonly atMs: number;
  readonly actor: string;
  readonly action: AliasAction;
  readonly reason: string;
  readonly evidence: Readonly<Record<string, unknown>>;
}

export interface DecisionRecord {
  readonly model: string;
  readonly studyId: string;
  readonly decidedAtMs: number;
  readonly challengerVersion: string;
  readonly championVersion: string;
  readonly promoted: boolean;
  readonly metric: string;
  readonly championValue: number;
  readonly challengerValue: number;
  readonly improvement: number;
  readonly pValue: number | null;
  readonly ciLow: number | null;
  readonly ciHigh: number | null;
  readonly test: string;
  readonly reason: string;
  readonly evidence: Readonly<Record<string, unknown>>;
}

export interface StudyQuery {
  readonly model?: string;
  readonly state?: StudyState;
  /** @default 50 */
  readonly limit?: number;
  /** @default 0 */
  readonly offset?: number;
}

/** The storage port of studies; ClickHouse in production, a plain object in unit tests. */
export interface StudyStorage {
  saveStudy(study: StudyRecord): Promise<void>;
  saveTrial(trial: TrialRow): Promise<void>;
  /** Several trials in one write, in order. */
  saveTrials(trials: readonly TrialRow[]): Promise<void>;
  getStudy(studyId: string): Promise<StudyRecord | undefined>;
  listStudies(query?: StudyQuery): Promise<StudyRecord[]>;
  listTrials(studyId: string): Promise<TrialRow[]>;
  /** Latest study creation time per model, for trigger cooldowns that survive restarts. */
  lastStudyCreatedAt(model: string): Promise<number | undefined>;
}

/** The storage port of the registry. */
export interface RegistryStorage {
  saveVersion(version: ModelVersion): Promise<void>;
  getVersion(model: string, version: string): Promise<ModelVersion | undefined>;
  listVersions(model: string): Promise<ModelVersion[]>;
  appendAliasEvent(event: AliasEvent): Promise<void>;
  /** Oldest first. */
  aliasHistory(model: string, alias?: AliasName): Promise<AliasEvent[]>;
  saveDecision(decision: DecisionRecord): Promise<void>;
  listDecisions(model: string): Promise<DecisionRecord[]>;
}
