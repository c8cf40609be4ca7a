/**
 * The JSON form of a whole study, for the daemon to store (one ClickHouse row per snapshot or
 * per trial, as it likes) and to restore after a restart. Plain JSON: non-finite numbers, which
 * JSON cannot carry, are written as the strings "NaN", "Infinity" and "-Infinity".
 */
import { HpoError } from './errors.js';
import { explainInvalidParams, type CompiledSearchSpace, type ParamValues } from './search-space.js';
import type { IntermediateValue, TrialOrigin, TrialRecord, TrialState } from './trial.js';
import type { StudyOptions } from './study-options.js';

export const SNAPSHOT_FORMAT = 'driftguard.hpo.study';
export const SNAPSHOT_VERSION = 1;

export type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';

export interface TrialSnapshot {
  number: number;
  state: TrialState;
  origin: TrialOrigin;
  params: ParamValues;
  value: JsonNumber | null;
  intermediate: { step: number; value: JsonNumber }[];
  rungValues: number[];
  startedAtMs: number | null;
  finishedAtMs: number | null;
  failReason: string | null;
}

export interface StudySnapshot {
  format: typeof SNAPSHOT_FORMAT;
  version: typeof SNAPSHOT_VERSION;
  options: StudyOptions;
  createdAtMs: number;
  trials: TrialSnapshot[];
}

const STATES: readonly TrialState[] = ['waiting', 'running', 'complete', 'pruned', 'failed'];
const ORIGINS: readonly TrialOrigin[] = ['sampler', 'warm-start'];

export function encodeNumber(value: number): JsonNumber {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}

export function decodeNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  return undefined;
}

export function trialToSnapshot(trial: TrialRecord): TrialSnapshot {
  return {
    number: trial.number,
    state: trial.state,
    origin: trial.origin,
    params: { ...trial.params },
    value: trial.value === undefined ? null : encodeNumber(trial.value),
    intermediate: trial.intermediate.map((r) => ({ step: r.step, value: encodeNumber(r.value) })),
    rungValues: [...trial.rungValues],
    startedAtMs: trial.startedAtMs ?? null,
    finishedAtMs: trial.finishedAtMs ?? null,
    failReason: trial.failReason ?? null,
  };
}

function snapshotError(message: string): HpoError {
  return new HpoError('HPO_SNAPSHOT_INVALID', message);
}

function optionalNumber(value: unknown, what: string): number | undefined {
  if (value === null || value === undefined) return undefined;
  const decoded = decodeNumber(value);
  if (decoded === undefined)
    throw snapshotError(`${what} must be a number or null, got ${JSON.stringify(value)}`);
  return decoded;
}

/** Checks one stored trial against the space and returns it as a record. */
export function trialFromSnapshot(
  raw: unknown,
  expectedNumber: number,
  space: CompiledSearchSpace,
): TrialRecord {
  const where = `trial ${expectedNumber}`;
  if (raw === null || typeof raw !== 'object') throw snapshotError(`${where} is not an object`);
  const t = raw as Partial<Record<keyof TrialSnapshot, unknown>>;
  if (t.number !== expectedNumber) {
    throw snapshotError(
      `${where}: number is ${JSON.stringify(t.number)}; trials must be stored in order 0, 1, 2...`,
    );
  }
  if (!STATES.includes(t.state as TrialState))
    throw snapshotError(`${where}: unknown state ${JSON.stringify(t.state)}`);
  if (!ORIGINS.includes(t.origin as TrialOrigin)) {
    throw snapshotError(`${where}: unknown origin ${JSON.stringify(t.origin)}`);
  }
  if (t.params === null || typeof t.params !== 'object')
    throw snapshotError(`${where}: params is not an object`);
  const params = t.params as ParamValues;
  const invalid = explainInvalidParams(space, params);
  if (invalid !== undefined) throw snapshotError(`${where}: params do not fit the study's space: ${invalid}`);
  if (!Array.isArray(t.intermediate)) throw snapshotError(`${where}: intermediate must be a list`);
  const intermediate: IntermediateValue[] = t.intermediate.map((r: unknown, i) => {
    const report = r as { step?: unknown; value?: unknown } | null;
    const value = decodeNumber(report?.value);
    if (!Number.isSafeInteger(report?.step) || value === undefined) {
      throw snapshotError(`${where}: intermediate[${i}] must be {step: integer, value: number}`);
    }
    return { step: report?.step as number, value };
  });
  if (!Array.isArray(t.rungValues) || !t.rungValues.every((v) => typeof v === 'number')) {
    throw snapshotError(`${where}: rungValues must be a list of numbers`);
  }
  const value = optionalNumber(t.value, `${where}: value`);
  if (t.state === 'complete' && (value === undefined || !Number.isFinite(value))) {
    throw snapshotError(`${where}: a complete trial needs a finite value, got ${JSON.stringify(t.value)}`);
  }
  return {
    number: expectedNumber,
    state: t.state as TrialState,
    origin: t.origin as TrialOrigin,
    params: { ...params },
    value,
    intermediate: intermediate.sort((a, b) => a.step - b.step),
    rungValues: [...t.rungValues],
    startedAtMs: optionalNumber(t.startedAtMs, `${where}: startedAtMs`),
    finishedAtMs: optionalNumber(t.finishedAtMs, `${where}: finishedAtMs`),
    failReason: typeof t.failReason === 'string' ? t.failReason : undefined,
  };
}

/** The envelope checks: the right format and a version this code can read. */
export function checkSnapshotEnvelope(raw: unknown): StudySnapshot {
  if (raw === null || typeof raw !== 'object') throw snapshotError('snapshot is not an object');
  const s = raw as Partial<Record<keyof StudySnapshot, unknown>>;
  if (s.format !== SNAPSHOT_FORMAT) {
    throw snapshotError(`snapshot format is ${JSON.stringify(s.format)}, expected "${SNAPSHOT_FORMAT}"`);
  }
  if (s.version !== SNAPSHOT_VERSION) {
    throw snapshotError(
      `snapshot version ${JSON.stringify(s.version)} is not supported by this engine (reads version ${SNAPSHOT_VERSION})`,
    );
  }
  if (
    typeof s.createdAtMs !== 'number' ||
    !Array.isArray(s.trials) ||
    s.options === null ||
    typeof s.options !== 'object'
  ) {
    throw snapshotError('snapshot needs options (object), createdAtMs (number) and trials (list)');
  }
  return raw as StudySnapshot;
}
