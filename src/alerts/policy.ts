import { alertFingerprint, contentId, modelGroupKey } from './fingerprint.js';
import type { AlertRecord, Notification, RuleEvaluation, Severity } from './types.js';
import { severityRank } from './types.js';

/**
 * The alert policy: a pure state machine per (model, rule). No clocks, no I/O: the caller hands
 * in evaluations and `nowMs` and persists the returned (JSON-serialisable) state.
 *
 * Semantics (also in docs/alerts.md):
 * - A rule FIRES after `forWindows[severity]` consecutive breaching windows.
 * - A firing rule RESOLVES after `resolveAfterWindows` consecutive non-breaching windows
 *   (hysteresis: one good window in a bad streak does not resolve it).
 * - COOLDOWN: a rule that resolved at R cannot fire again before R + cooldownMs (on the
 *   evaluations' clock). Breaching windows inside the cooldown still count, so a rule that is
 *   still breaching when the cooldown ends fires at its first evaluation after it.
 * - Escalation (warning → critical while firing) notifies again with the same fingerprint;
 *   de-escalation does not (the alert keeps its highest severity until it resolves).
 * - An evaluation whose window does not end after the last one seen for that rule is ignored,
 *   so replaying a cycle after a restart cannot fire twice.
 * - A firing rule that is not evaluated for `staleAfterMs` is resolved (its model or feature
 *   went away); 0 keeps it firing forever. This runs on the evaluations' clock: the newest
 *   `evaluatedAtMs` of the cycle, or `nowMs` when a cycle has no evaluations.
 */

export interface PolicyOptions {
  /** Consecutive breaching windows before an alert of each severity fires. */
  readonly forWindows: { readonly warning: number; readonly critical: number };
  /** Consecutive non-breaching windows before a firing alert resolves. */
  readonly resolveAfterWindows: number;
  /** After a resolve, the rule cannot fire again for this long. */
  readonly cooldownMs: number;
  /** Firing rules not evaluated for this long are resolved; 0 disables. */
  readonly staleAfterMs: number;
}

export type RulePhase = 'ok' | 'pending' | 'firing';

/** One (model, rule, segment)'s memory between cycles. */
export interface RuleState {
  model: string;
  rule: string;
  /** Set for a segment's rule (`country=DE`); absent for the whole model. */
  segment?: string;
  fingerprint: string;
  phase: RulePhase;
  breachStreak: number;
  clearStreak: number;
  /** Start of the current breaching streak's first window (null when not breaching). */
  streakStartMs: number | null;
  /** Severity of the firing alert (highest seen while firing), else of the last evaluation. */
  severity: Severity;
  /** Set while firing. */
  startsAtMs: number | null;
  /** When the last firing resolved, for the cooldown. */
  resolvedAtMs: number | null;
  lastWindowEndMs: number;
  lastEvaluatedAtMs: number;
  summary: string;
  value: number | null;
  threshold: number | null;
  windowStartMs: number;
  details?: Record<string, unknown>;
}

export interface PolicyState {
  version: 1;
  /** Keyed by fingerprint. */
  rules: Record<string, RuleState>;
}

export function emptyPolicyState(): PolicyState {
  return { version: 1, rules: {} };
}

/** Restores a state from its JSON form, refusing shapes this code did not write. */
export function parsePolicyState(json: string): PolicyState {
  const parsed = JSON.parse(json) as Partial<PolicyState> | null;
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    parsed.version !== 1 ||
    typeof parsed.rules !== 'object' ||
    parsed.rules === null
  ) {
    throw new Error('alert policy state is not a version 1 state object');
  }
  return { version: 1, rules: { ...parsed.rules } };
}

export interface PolicyResult {
  state: PolicyState;
  /** One per model that had a change, models in first-seen order. */
  notifications: Notification[];
  /** Models whose rule states changed (and must be persisted). */
  changedModels: string[];
}

type Transition = { kind: 'fire' | 'escalate' | 'resolve'; state: RuleState; reason?: string; atMs: number };

/** Applies one cycle of evaluations (any number of models) to `state`, without mutating it. */
export function applyEvaluations(
  previous: PolicyState,
  evaluations: readonly RuleEvaluation[],
  nowMs: number,
  options: PolicyOptions,
): PolicyResult {
  const rules: Record<string, RuleState> = { ...previous.rules };
  const transitions: Transition[] = [];
  const changed = new Set<string>();
  const cycleTimeByModel = new Map<string, number>();

  // Process each rule's windows in time order, whatever order the monitor listed them in.
  const ordered = [...evaluations].sort((a, b) => a.windowEndMs - b.windowEndMs);
  for (const evaluation of ordered) {
    const fingerprint = alertFingerprint(evaluation.model, evaluation.rule, evaluation.segment);
    const before = rules[fingerprint];
    if (before !== undefined && evaluation.windowEndMs <= before.lastWindowEndMs) continue;
    const { next, transition } = step(before, evaluation, fingerprint, options);
    rules[fingerprint] = next;
    changed.add(evaluation.model);
    cycleTimeByModel.set(
      evaluation.model,
      Math.max(cycleTimeByModel.get(evaluation.model) ?? 0, evaluation.evaluatedAtMs),
    );
    if (transition !== undefined) transitions.push(transition);
  }

  if (options.staleAfterMs > 0) {
    // Staleness runs on the evaluations' clock (the newest evaluation of this cycle), so a
    // backfill of old windows does not resolve everything; with no evaluations, on `nowMs`.
    const clockMs =
      evaluations.length > 0
        ? evaluations.reduce((max, e) => Math.max(max, e.evaluatedAtMs), -Infinity)
        : nowMs;
    for (const [fingerprint, rule] of Object.entries(rules)) {
      if (clockMs - rule.lastEvaluatedAtMs <= options.staleAfterMs) continue;
      if (rule.phase === 'firing') {
        const resolved: RuleState = {
          ...rule,
          phase: 'ok',
          breachStreak: 0,
          clearStreak: 0,
          streakStartMs: null,
          startsAtMs: null,
          resolvedAtMs: clockMs,
        };
        rules[fingerprint] = resolved;
        transitions.push({
          kind: 'resolve',
          state: { ...resolved, startsAtMs: rule.startsAtMs },
          reason: 'stale',
          atMs: clockMs,
        });
        cycleTimeByModel.set(rule.model, Math.max(cycleTimeByModel.get(rule.model) ?? 0, clockMs));
      } else {
        // Nothing to remember about a quiet rule nobody evaluates any more (its cooldown is over too).
        delete rules[fingerprint];
      }
      changed.add(rule.model);
    }
  }

  return {
    state: { version: 1, rules },
    notifications: groupByModel(transitions, cycleTimeByModel),
    changedModels: [...changed],
  };
}

function step(
  before: RuleState | undefined,
  evaluation: RuleEvaluation,
  fingerprint: string,
  options: PolicyOptions,
): { next: RuleState; transition?: Transition } {
  const base: RuleState = before ?? {
    model: evaluation.model,
    rule: evaluation.rule,
    ...(evaluation.segment === undefined || evaluation.segment === '' ? {} : { segment: evaluation.segment }),
    fingerprint,
    phase: 'ok',
    breachStreak: 0,
    clearStreak: 0,
    streakStartMs: null,
    severity: evaluation.severity,
    startsAtMs: null,
    resolvedAtMs: null,
    lastWindowEndMs: Number.NEGATIVE_INFINITY,
    lastEvaluatedAtMs: evaluation.evaluatedAtMs,
    summary: evaluation.summary,
    value: evaluation.value,
    threshold: evaluation.threshold,
    windowStartMs: evaluation.windowStartMs,
  };
  const next: RuleState = {
    ...base,
    lastWindowEndMs: evaluation.windowEndMs,
    lastEvaluatedAtMs: evaluation.evaluatedAtMs,
    summary: evaluation.summary,
    value: evaluation.value,
    threshold: evaluation.threshold,
    windowStartMs: evaluation.windowStartMs,
  };
  if (evaluation.details === undefined) delete next.details;
  else next.details = jsonSafe(evaluation.details);
  const at = evaluation.evaluatedAtMs;

  if (evaluation.breaching) {
    next.breachStreak = base.breachStreak + 1;
    next.clearStreak = 0;
    next.streakStartMs =
      base.breachStreak === 0 || base.streakStartMs === null ? evaluation.windowStartMs : base.streakStartMs;
    if (base.phase === 'firing') {
      if (severityRank(evaluation.severity) > severityRank(base.severity)) {
        next.severity = evaluation.severity;
        return { next, transition: { kind: 'escalate', state: next, atMs: at } };
      }
      return { next };
    }
    next.severity = evaluation.severity;
    const coolingDown = base.resolvedAtMs !== null && at < base.resolvedAtMs + options.cooldownMs;
    if (next.breachStreak >= options.forWindows[evaluation.severity] && !coolingDown) {
      next.phase = 'firing';
      next.startsAtMs = next.streakStartMs;
      return { next, transition: { kind: 'fire', state: next, atMs: at } };
    }
    next.phase = 'pending';
    return { next };
  }

  next.breachStreak = 0;
  next.clearStreak = base.clearStreak + 1;
  next.streakStartMs = null;
  if (base.phase === 'firing') {
    if (next.clearStreak >= options.resolveAfterWindows) {
      const resolved: RuleState = { ...next, phase: 'ok', resolvedAtMs: at, startsAtMs: null };
      // The notification still needs the start of what resolved.
      return {
        next: resolved,
        transition: { kind: 'resolve', state: { ...resolved, startsAtMs: base.startsAtMs }, atMs: at },
      };
    }
    return { next };
  }
  next.phase = 'ok';
  next.severity = evaluation.severity;
  return { next };
}

function groupByModel(transitions: Transition[], cycleTimeByModel: Map<string, number>): Notification[] {
  const byModel = new Map<string, AlertRecord[]>();
  for (const transition of transitions) {
    const list = byModel.get(transition.state.model) ?? [];
    list.push(toAlertRecord(transition));
    byModel.set(transition.state.model, list);
  }
  const notifications: Notification[] = [];
  for (const [model, alerts] of byModel) {
    alerts.sort((a, b) => a.rule.localeCompare(b.rule) || (a.segment ?? '').localeCompare(b.segment ?? ''));
    const groupKey = modelGroupKey(model);
    const id = contentId([
      groupKey,
      ...alerts.map((a) => `${a.fingerprint}:${a.status}:${a.severity}:${a.startsAtMs}`),
    ]);
    notifications.push({
      id,
      groupKey,
      model,
      status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
      createdAtMs: cycleTimeByModel.get(model) ?? 0,
      alerts,
    });
  }
  return notifications;
}

/** The rule id's first segment ("drift", "performance", "quality", "model"), used as a label. */
export function ruleCategory(rule: string): string {
  const head = rule.split(':')[0] ?? '';
  return head === '' ? 'rule' : head;
}

function alertName(category: string): string {
  const pascal = category
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
  return `Driftguard${pascal}`;
}

function toAlertRecord(transition: Transition): AlertRecord {
  const s = transition.state;
  const status = transition.kind === 'resolve' ? 'resolved' : 'firing';
  const category = ruleCategory(s.rule);
  const annotations: Record<string, string> = {
    summary: s.summary,
    value: s.value === null ? '' : String(s.value),
    threshold: s.threshold === null ? '' : String(s.threshold),
    window_start: new Date(s.windowStartMs).toISOString(),
    window_end: new Date(s.lastWindowEndMs).toISOString(),
  };
  if (transition.reason !== undefined) annotations['resolved_reason'] = transition.reason;
  const labels: Record<string, string> = {
    alertname: alertName(category),
    model: s.model,
    rule: s.rule,
    category,
    severity: s.severity,
  };
  // Receivers that identify alerts by their labels (Alertmanager) must see segments apart.
  if (s.segment !== undefined) labels['segment'] = s.segment;
  const record: AlertRecord = {
    fingerprint: s.fingerprint,
    rule: s.rule,
    ...(s.segment === undefined ? {} : { segment: s.segment }),
    severity: s.severity,
    status,
    startsAtMs: s.startsAtMs ?? s.windowStartMs,
    summary: s.summary,
    value: s.value,
    threshold: s.threshold,
    labels,
    annotations,
  };
  if (status === 'resolved') record.endsAtMs = transition.atMs;
  if (s.details !== undefined) record.details = s.details;
  return record;
}

/** The currently firing alerts of a state, for metrics and the API. */
export function firingRules(state: PolicyState): RuleState[] {
  return Object.values(state.rules).filter((rule) => rule.phase === 'firing');
}

/** Link to the API listing for one model; `generatorURL` in Alertmanager terms. */
export function generatorUrl(externalUrl: string, model: string): string {
  return `${externalUrl}/v1/alerts?model=${encodeURIComponent(model)}`;
}

/**
 * Details come from the monitor and end up in persisted JSON and payloads: a BigInt would make
 * JSON.stringify throw mid-cycle, so it is written as a string; functions and undefined drop out.
 */
function jsonSafe(details: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(details, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)),
  ) as Record<string, unknown>;
}
