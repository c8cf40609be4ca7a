/**
 * ClickHouse adapter for the study and registry ports. Append-only: each state change is a new
 * row; "latest" is read with `ORDER BY ... revision DESC LIMIT 1 BY key`, which is correct before
 * and after background merges (18.16 has no query parameters: values go through src/store/sql.ts).
 */
import { insertObjects, type Store } from '../../kernel/store.js';
import { sqlIdentifier, sqlNumber, sqlString } from '../../kernel/sql.js';
import type {
  AliasEvent,
  AliasName,
  DecisionRecord,
  ModelVersion,
  RegistryStorage,
  StudyQuery,
  StudyRecord,
  StudyStorage,
  TrialRow,
} from './types.js';

const seconds = (ms: number): number => Math.floor(ms / 1000);

/** Orders rows written within one millisecond (or second) by one writer. */
export class RevisionClock {
  private last = 0;
  constructor(private readonly now: () => number = Date.now) {}
  next(): number {
    this.last = Math.max(this.now(), this.last + 1);
    return this.last;
  }
}

function json(text: unknown, fallback: unknown): unknown {
  if (typeof text !== 'string' || text === '') return fallback;
  try {
    return JSON.parse(text);
  } catch {
    // A row written by hand or by a newer version: keep the raw text rather than fail the read.
    return { unparsed: text };
  }
}

const num = (value: unknown): number => Number(value);
const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const nullableNum = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

/** JSON cannot carry NaN/Infinity; ClickHouse Float64 columns get 0 and the JSON evidence keeps the truth. */
const finiteOr = (value: number, fallback: number): number => (Number.isFinite(value) ? value : fallback);
const finiteOrNull = (value: number | null): number | null =>
  value === null || !Number.isFinite(value) ? null : value;

export class ClickHouseRetuneStore implements StudyStorage, RegistryStorage {
  private readonly db: string;
  private readonly revisions: RevisionClock;

  constructor(
    private readonly store: Store,
    now: () => number = Date.now,
  ) {
    this.db = sqlIdentifier(store.database);
    this.revisions = new RevisionClock(now);
  }

  private insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    return insertObjects(this.store, table, rows);
  }

  private select<Row>(operation: string, query: string): Promise<Row[]> {
    return this.store.select<Row>(operation, query);
  }

  // ---- studies ----

  async saveStudy(s: StudyRecord): Promise<void> {
    await this.insert('studies', [
      {
        study_id: s.studyId,
        model: s.model,
        created_at: seconds(s.createdAtMs),
        updated_at: seconds(s.updatedAtMs),
        state: s.state,
        trigger: s.trigger,
        direction: s.direction,
        objective: s.objective,
        sampler: s.sampler,
        pruner: s.pruner,
        seed: s.seed,
        max_trials: s.maxTrials,
        snapshot: s.snapshot,
        best_trial: s.bestTrial,
        best_value: finiteOrNull(s.bestValue),
        revision: this.revisions.next(),
        error: s.error,
        dataset: s.dataset,
        data_window: s.window,
      },
    ]);
  }

  async saveTrial(t: TrialRow): Promise<void> {
    await this.saveTrials([t]);
  }

  async saveTrials(trials: readonly TrialRow[]): Promise<void> {
    if (trials.length === 0) return;
    await this.insert(
      'trials',
      trials.map((t) => ({
        study_id: t.studyId,
        model: t.model,
        trial: t.trial,
        state: t.state,
        params: JSON.stringify(t.params),
        value: finiteOrNull(t.value),
        intermediate: JSON.stringify(t.intermediate.map(([s, v]) => [s, Number.isFinite(v) ? v : String(v)])),
        started_at: seconds(t.startedAtMs),
        finished_at: seconds(t.finishedAtMs),
        device: t.device,
        updated_at: seconds(t.updatedAtMs),
        revision: this.revisions.next(),
        fail_reason: t.failReason,
        artifact_path: t.artifactPath,
      })),
    );
  }

  private studyColumns = `study_id, model, toUInt32(created_at) AS created_s, toUInt32(updated_at) AS updated_s, state,
    trigger, direction, objective, sampler, pruner, seed, max_trials, snapshot, best_trial, best_value, error, dataset, data_window, revision`;

  private static toStudy(row: Record<string, unknown>): StudyRecord {
    return {
      studyId: String(row['study_id']),
      model: String(row['model']),
      createdAtMs: num(row['created_s']) * 1000,
      updatedAtMs: num(row['updated_s']) * 1000,
      state: row['state'] as StudyRecord['state'],
      trigger: row['trigger'] as StudyRecord['trigger'],
      direction: String(row['direction']),
      objective: String(row['objective']),
      sampler: String(row['sampler']),
      pruner: String(row['pruner']),
      seed: num(row['seed']),
      maxTrials: num(row['max_trials']),
      snapshot: String(row['snapshot']),
      bestTrial: num(row['best_trial']),
      bestValue: nullableNum(row['best_value']),
      error: str(row['error']),
      dataset: str(row['dataset']),
      window: str(row['data_window']),
    };
  }

  async getStudy(studyId: string): Promise<StudyRecord | undefined> {
    const rows = await this.select<Record<string, unknown>>(
      'read study',
      `SELECT ${this.studyColumns} FROM ${this.db}.studies WHERE study_id = ${sqlString(studyId)}
       ORDER BY revision DESC LIMIT 1`,
    );
    return rows[0] === undefined ? undefined : ClickHouseRetuneStore.toStudy(rows[0]);
  }

  async listStudies(query: StudyQuery = {}): Promise<StudyRecord[]> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    const where: string[] = [];
    if (query.model !== undefined) where.push(`model = ${sqlString(query.model)}`);
    // The state filter applies to each study's latest row, hence the outer query.
    const inner = `SELECT ${this.studyColumns} FROM ${this.db}.studies
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY study_id, revision DESC LIMIT 1 BY study_id`;
    const stateFilter = query.state === undefined ? '' : `WHERE state = ${sqlString(query.state)}`;
    const rows = await this.select<Record<string, unknown>>(
      'list studies',
      `SELECT * FROM (${inner}) ${stateFilter} ORDER BY created_s DESC, study_id DESC
       LIMIT ${sqlNumber(offset)}, ${sqlNumber(limit)}`,
    );
    return rows.map((row) => ClickHouseRetuneStore.toStudy(row));
  }

  async listTrials(studyId: string): Promise<TrialRow[]> {
    const rows = await this.select<Record<string, unknown>>(
      'list trials',
      `SELECT study_id, model, trial, state, params, value, intermediate, toUInt32(started_at) AS started_s,
         toUInt32(finished_at) AS finished_s, device, toUInt32(updated_at) AS updated_s, fail_reason, artifact_path, revision
       FROM ${this.db}.trials WHERE study_id = ${sqlString(studyId)}
       ORDER BY trial, revision DESC LIMIT 1 BY trial`,
    );
    return rows.map((row) => ({
      studyId: String(row['study_id']),
      model: String(row['model']),
      trial: num(row['trial']),
      state: row['state'] as TrialRow['state'],
      params: json(row['params'], {}) as Record<string, unknown>,
      value: nullableNum(row['value']),
      intermediate: (json(row['intermediate'], []) as [number, number | string][]).map(
        ([step, value]) => [step, Number(value)] as const,
      ),
      startedAtMs: num(row['started_s']) * 1000,
      finishedAtMs: num(row['finished_s']) * 1000,
      device: String(row['device']),
      updatedAtMs: num(row['updated_s']) * 1000,
      failReason: str(row['fail_reason']),
      artifactPath: str(row['artifact_path']),
    }));
  }

  async lastStudyCreatedAt(model: string): Promise<number | undefined> {
    const rows = await this.select<{ n: string | number; latest: string | number }>(
      'read last study time',
      `SELECT count() AS n, max(toUInt32(created_at)) AS latest FROM ${this.db}.studies WHERE model = ${sqlString(model)}`,
    );
    const row = rows[0];
    return row === undefined || Number(row.n) === 0 ? undefined : Number(row.latest) * 1000;
  }

  // ---- registry ----

  async saveVersion(v: ModelVersion): Promise<void> {
    await this.insert('model_versions', [
      {
        model: v.model,
        version: v.version,
        created_at: seconds(v.createdAtMs),
        study_id: v.studyId,
        trial: v.trial,
        artifact_uri: v.artifactUri,
        params: JSON.stringify(v.params),
        metrics: JSON.stringify(v.metrics),
        scoring: v.scoring === undefined ? '' : JSON.stringify(v.scoring),
      },
    ]);
  }

  private static toVersion(row: Record<string, unknown>): ModelVersion {
    return {
      model: String(row['model']),
      version: String(row['version']),
      createdAtMs: num(row['created_s']) * 1000,
      studyId: String(row['study_id']),
      trial: num(row['trial']),
      artifactUri: String(row['artifact_uri']),
      params: json(row['params'], {}) as Record<string, unknown>,
      metrics: json(row['metrics'], {}) as Record<string, unknown>,
      ...(str(row['scoring']) === '' ? {} : { scoring: json(row['scoring'], undefined) }),
    };
  }

  private versionColumns = `model, version, toUInt32(created_at) AS created_s, study_id, trial, artifact_uri, params, metrics, scoring`;

  async getVersion(model: string, version: string): Promise<ModelVersion | undefined> {
    const rows = await this.select<Record<string, unknown>>(
      'read model version',
      `SELECT ${this.versionColumns} FROM ${this.db}.model_versions FINAL
       WHERE model = ${sqlString(model)} AND version = ${sqlString(version)} LIMIT 1`,
    );
    return rows[0] === undefined ? undefined : ClickHouseRetuneStore.toVersion(rows[0]);
  }

  async listVersions(model: string): Promise<ModelVersion[]> {
    const rows = await this.select<Record<string, unknown>>(
      'list model versions',
      `SELECT ${this.versionColumns} FROM ${this.db}.model_versions FINAL
       WHERE model = ${sqlString(model)} ORDER BY created_s, version`,
    );
    return rows.map((row) => ClickHouseRetuneStore.toVersion(row));
  }

  async appendAliasEvent(e: AliasEvent): Promise<void> {
    await this.insert('alias_events', [
      {
        model: e.model,
        alias: e.alias,
        version: e.version,
        previous_version: e.previousVersion,
        at: seconds(e.atMs),
        actor: e.actor,
        action: e.action,
        reason: e.reason,
        evidence: JSON.stringify(e.evidence),
        revision: this.revisions.next(),
      },
    ]);
  }

  async aliasHistory(model: string, alias?: AliasName): Promise<AliasEvent[]> {
    const aliasFilter = alias === undefined ? '' : ` AND alias = ${sqlString(alias)}`;
    const rows = await this.select<Record<string, unknown>>(
      'read alias history',
      `SELECT model, alias, version, previous_version, toUInt32(at) AS at_s, actor, action, reason, evidence, revision
       FROM ${this.db}.alias_events WHERE model = ${sqlString(model)}${aliasFilter}
       ORDER BY revision, at_s`,
    );
    return rows.map((row) => ({
      model: String(row['model']),
      alias: row['alias'] as AliasName,
      version: String(row['version']),
      previousVersion: String(row['previous_version']),
      atMs: num(row['at_s']) * 1000,
      actor: String(row['actor']),
      action: row['action'] as AliasEvent['action'],
      reason: String(row['reason']),
      evidence: json(row['evidence'], {}) as Record<string, unknown>,
    }));
  }

  async saveDecision(d: DecisionRecord): Promise<void> {
    await this.insert('promotion_decisions', [
      {
        model: d.model,
        study_id: d.studyId,
        decided_at: seconds(d.decidedAtMs),
        challenger_version: d.challengerVersion,
        champion_version: d.championVersion,
        promoted: d.promoted ? 1 : 0,
        metric: d.metric,
        champion_value: finiteOr(d.championValue, 0),
        challenger_value: finiteOr(d.challengerValue, 0),
        improvement: finiteOr(d.improvement, 0),
        p_value: finiteOrNull(d.pValue),
        ci_low: finiteOrNull(d.ciLow),
        ci_high: finiteOrNull(d.ciHigh),
        test: d.test,
        reason: d.reason,
        evidence: JSON.stringify(d.evidence),
      },
    ]);
  }

  async listDecisions(model: string): Promise<DecisionRecord[]> {
    const rows = await this.select<Record<string, unknown>>(
      'list promotion decisions',
      `SELECT model, study_id, toUInt32(decided_at) AS decided_s, challenger_version, champion_version, promoted,
         metric, champion_value, challenger_value, improvement, p_value, ci_low, ci_high, test, reason, evidence
       FROM ${this.db}.promotion_decisions WHERE model = ${sqlString(model)} ORDER BY decided_s`,
    );
    return rows.map((row) => ({
      model: String(row['model']),
      studyId: String(row['study_id']),
      decidedAtMs: num(row['decided_s']) * 1000,
      challengerVersion: String(row['challenger_version']),
      championVersion: String(row['champion_version']),
      promoted: num(row['promoted']) === 1,
      metric: String(row['metric']),
      championValue: num(row['champion_value']),
      challengerValue: num(row['challenger_value']),
      improvement: num(row['improvement']),
      pValue: nullableNum(row['p_value']),
      ciLow: nullableNum(row['ci_low']),
      ciHigh: nullableNum(row['ci_high']),
      test: String(row['test']),
      reason: String(row['reason']),
      evidence: json(row['evidence'], {}) as Record<string, unknown>,
    }));
  }
}
