/**
 * The alerting subsystem's vocabulary. The monitor hands `RuleEvaluation`s in; the policy turns
 * them into `Notification`s; sinks turn notifications into each receiver's wire format.
 */

export type Severity = 'warning' | 'critical';

export const SEVERITIES: readonly Severity[] = ['warning', 'critical'];

/** Orders severities so that filters can say "at least". */
export function severityRank(severity: Severity): number {
  return severity === 'critical' ? 2 : 1;
}

/** One rule's verdict on one window of one model, produced by the monitor each cycle. */
export interface RuleEvaluation {
  model: string;
  /** Stable rule id, e.g. "drift:amount:ks", "performance:accuracy", "model:drift_share". */
  rule: string;
  /**
   * The model's segment this verdict is about (`country=DE`); absent or '' for the whole model.
   * Part of the alert's identity: the same rule in two segments is two alerts of one group.
   */
  segment?: string;
  severity: Severity;
  /** This window breaches the rule's threshold. */
  breaching: boolean;
  value: number | null;
  threshold: number | null;
  /** One human sentence. */
  summary: string;
  details?: Record<string, unknown>;
  windowStartMs: number;
  windowEndMs: number;
  evaluatedAtMs: number;
}

export type AlertStatus = 'firing' | 'resolved';

/** One alert inside a notification: a (model, rule, segment) that started or stopped firing. */
export interface AlertRecord {
  /** Hex hash of model + rule (+ segment): stable across restarts, the dedup key for receivers. */
  fingerprint: string;
  rule: string;
  /** The segment (`country=DE`) when the alert is about one; absent for the whole model. */
  segment?: string;
  severity: Severity;
  status: AlertStatus;
  /** Start of the first breaching window of the streak that fired. */
  startsAtMs: number;
  /** When the policy resolved the alert; absent while firing. */
  endsAtMs?: number;
  summary: string;
  value: number | null;
  threshold: number | null;
  /** Identifying, low-cardinality strings: alertname, model, rule, category, severity (and segment). */
  labels: Record<string, string>;
  /** Descriptive strings: summary, value, threshold, window bounds. */
  annotations: Record<string, string>;
  /** The monitor's details of the last evaluation, passed through to receivers that take JSON. */
  details?: Record<string, unknown>;
}

/**
 * Everything that changed for one model in one cycle, like an Alertmanager group: `status` is
 * "firing" when any alert in it fires, else "resolved".
 */
export interface Notification {
  /** Deterministic hash of the group and its alerts' transitions: the same change, the same id. */
  id: string;
  /** Alertmanager-style group key, `{}:{model="<model>"}`. */
  groupKey: string;
  model: string;
  status: AlertStatus;
  /** The latest `evaluatedAtMs` of the cycle (deterministic, unlike the wall clock). */
  createdAtMs: number;
  alerts: AlertRecord[];
}

/** A lifecycle event that is not an alert (retune finished, model promoted, rolled back...). */
export interface ModelEvent {
  /** Deterministic id; one is derived from the other fields when not given. */
  id: string;
  model: string;
  /** Lower-case word(s), e.g. "retune.completed", "promotion", "rollback". */
  kind: string;
  severity: Severity | 'info';
  summary: string;
  details?: Record<string, unknown>;
  atMs: number;
}

/** What goes through a sink: an alert notification or a model event. */
export type OutboundMessage =
  { type: 'alert'; notification: Notification } | { type: 'event'; event: ModelEvent };
