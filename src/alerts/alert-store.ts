import { insertObjects, type Store } from '../../kernel/store.js';
import { sqlDateTime, sqlIdentifier, sqlNumber, sqlString, sqlStringList } from '../../kernel/sql.js';
import { emptyPolicyState, parsePolicyState, type PolicyState } from './policy.js';

/**
 * The alerting tables (see migrations.ts) behind a small port. Everything is append-only;
 * latest values are computed at read time, so the same row written twice (a retried write, a
 * replayed cycle) changes nothing that readers see.
 */

export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'dead';

export interface NotificationRow {
  notificationId: string;
  kind: 'alert' | 'event';
  groupKey: string;
  model: string;
  /** firing | resolved for alerts; the event kind for events. */
  status: string;
  createdAtMs: number;
  /** The full notification or event as JSON. */
  body: string;
}

export interface OutboxRow {
  deliveryId: string;
  notificationId: string;
  sink: string;
  model: string;
  /** Order among rows written at the same millisecond. */
  seq: number;
  createdAtMs: number;
  /** The OutboundMessage for this sink (already narrowed by its filter) as JSON. */
  message: string;
}

export interface AttemptRow {
  deliveryId: string;
  notificationId: string;
  sink: string;
  attempt: number;
  status: Exclude<DeliveryStatus, 'pending'>;
  httpStatus: number | null;
  error: string;
  atMs: number;
  /** When a failed delivery is due again; 0 otherwise. */
  nextAttemptAtMs: number;
}

/** An outbox row that is neither delivered nor dead, with its attempt history summarised. */
export interface PendingDelivery extends OutboxRow {
  attempts: number;
  lastStatus: DeliveryStatus;
  lastError: string;
  nextAttemptAtMs: number;
}

/**
 * The latest attempt wins; among rows of the same attempt number (two replicas raced), the
 * more final status wins, so a delivery seen delivered by anyone stays delivered.
 */
const ATTEMPT_ORDER = `attempt * 4 + multiIf(status = 'delivered', 3, status = 'dead', 2, status = 'failed', 1, 0)`;

/**
 * Per-delivery summary of the attempts log, joined to outbox rows by delivery_id. Both sides are
 * grouped by delivery_id, so an ALL join means the same on 18.16 and on current ClickHouse (whose
 * ANY joins changed meaning), and both sides are aliased (current ClickHouse requires it).
 */
function attemptsSummary(db: string, where: string): string {
  return `SELECT delivery_id, max(attempt) AS d_attempts, argMax(status, ${ATTEMPT_ORDER}) AS d_status,
      argMax(error, ${ATTEMPT_ORDER}) AS d_error, argMax(next_attempt_at_ms, ${ATTEMPT_ORDER}) AS d_next_ms,
      max(at_ms) AS d_last_ms
    FROM ${db}.alert_deliveries ${where} GROUP BY delivery_id`;
}

export class AlertStore {
  private readonly db: string;

  constructor(private readonly store: Store) {
    this.db = sqlIdentifier(store.database);
  }

  async insertNotifications(rows: readonly NotificationRow[]): Promise<void> {
    await this.insert(
      'alert_notifications',
      rows.map((row) => ({
        notification_id: row.notificationId,
        kind: row.kind,
        group_key: row.groupKey,
        model: row.model,
        status: row.status,
        created_at_ms: row.createdAtMs,
        created_at: Math.floor(row.createdAtMs / 1000),
        body: row.body,
      })),
    );
  }

  async insertOutbox(rows: readonly OutboxRow[]): Promise<void> {
    await this.insert(
      'alert_outbox',
      rows.map((row) => ({
        delivery_id: row.deliveryId,
        notification_id: row.notificationId,
        sink: row.sink,
        model: row.model,
        seq: row.seq,
        created_at_ms: row.createdAtMs,
        created_at: Math.floor(row.createdAtMs / 1000),
        message: row.message,
      })),
    );
  }

  async insertAttempts(rows: readonly AttemptRow[]): Promise<void> {
    await this.insert(
      'alert_deliveries',
      rows.map((row) => ({
        delivery_id: row.deliveryId,
        notification_id: row.notificationId,
        sink: row.sink,
        attempt: row.attempt,
        status: row.status,
        http_status: row.httpStatus ?? 0,
        error: row.error,
        at_ms: row.atMs,
        at: Math.floor(row.atMs / 1000),
        next_attempt_at_ms: row.nextAttemptAtMs,
      })),
    );
  }

  /** Persists the rules of the given models (one row per model; the newest row wins). */
  async saveState(state: PolicyState, models: readonly string[], versionMs: number): Promise<void> {
    const byModel = new Map<string, PolicyState>(models.map((model) => [model, emptyPolicyState()]));
    for (const [fingerprint, rule] of Object.entries(state.rules)) {
      const modelState = byModel.get(rule.model);
      if (modelState !== undefined) modelState.rules[fingerprint] = rule;
    }
    await this.insert(
      'alert_state',
      [...byModel].map(([model, modelState]) => ({
        model,
        state: JSON.stringify(modelState),
        updated_at_ms: versionMs,
        updated_at: Math.floor(versionMs / 1000),
      })),
    );
  }

  /** The latest persisted policy state of every model, or of `models` only. */
  async loadState(models?: readonly string[]): Promise<PolicyState> {
    const where = models === undefined ? '' : ` WHERE has(${sqlStringList(models)}, model)`;
    const rows = await this.select<{ model: string; state: string }>(
      `SELECT model, argMax(state, updated_at_ms) AS state FROM ${this.db}.alert_state${where} GROUP BY model`,
      'load alert state',
    );
    const merged = emptyPolicyState();
    for (const row of rows) Object.assign(merged.rules, parsePolicyState(row.state).rules);
    return merged;
  }

  /**
   * Deliveries not yet delivered or dead, oldest first, among outbox rows created since
   * `sinceMs`. A delivery with no attempt yet has `attempts` 0 and status "pending".
   */
  async pendingDeliveries(sinceMs: number, limit: number): Promise<PendingDelivery[]> {
    const since = sqlNumber(Math.max(0, Math.floor(sinceMs)));
    const rows = await this.select<RawPending>(
      `SELECT delivery_id, o_notification, o_sink, o_model, o_seq, o_created_ms, o_message,
          d_attempts, d_status, d_error, d_next_ms
        FROM (
          SELECT delivery_id, any(notification_id) AS o_notification, any(sink) AS o_sink, any(model) AS o_model,
            min(seq) AS o_seq, min(created_at_ms) AS o_created_ms, any(message) AS o_message
          FROM ${this.db}.alert_outbox WHERE created_at_ms >= ${since} GROUP BY delivery_id
        ) AS o ALL LEFT JOIN (${attemptsSummary(this.db, `WHERE at_ms >= ${since}`)}) AS d USING delivery_id
        WHERE d_status NOT IN ('delivered', 'dead')
        ORDER BY o_created_ms, o_seq, delivery_id
        LIMIT ${sqlNumber(limit)}`,
      'read pending deliveries',
    );
    return rows.map((row) => ({
      deliveryId: row.delivery_id,
      notificationId: row.o_notification,
      sink: row.o_sink,
      model: row.o_model,
      seq: Number(row.o_seq),
      createdAtMs: Number(row.o_created_ms),
      message: row.o_message,
      attempts: Number(row.d_attempts),
      // The left join fills a delivery with no attempts with '' (never tried).
      lastStatus: row.d_status === '' ? 'pending' : (row.d_status as DeliveryStatus),
      lastError: row.d_error,
      nextAttemptAtMs: Number(row.d_next_ms),
    }));
  }

  /** Latest status of every delivery of the given notifications. */
  async deliveriesOf(notificationIds: readonly string[]): Promise<DeliverySummary[]> {
    if (notificationIds.length === 0) return [];
    const ids = sqlStringList(notificationIds);
    const rows = await this.select<RawDelivery>(
      `SELECT delivery_id, o_notification, o_sink, d_attempts, d_status, d_error, d_last_ms
        FROM (
          SELECT delivery_id, any(notification_id) AS o_notification, any(sink) AS o_sink
          FROM ${this.db}.alert_outbox WHERE has(${ids}, notification_id) GROUP BY delivery_id
        ) AS o ALL LEFT JOIN (${attemptsSummary(this.db, `WHERE has(${ids}, notification_id)`)}) AS d USING delivery_id
        ORDER BY o_notification, o_sink`,
      'read delivery status',
    );
    return rows.map((row) => ({
      deliveryId: row.delivery_id,
      notificationId: row.o_notification,
      sink: row.o_sink,
      status: row.d_status === '' ? 'pending' : (row.d_status as DeliveryStatus),
      attempts: Number(row.d_attempts),
      lastError: row.d_error === '' ? null : row.d_error,
      lastAttemptAtMs: Number(row.d_last_ms) === 0 ? null : Number(row.d_last_ms),
    }));
  }

  /** Notifications, newest first, deduplicated by id (a replayed write leaves two rows). */
  async notifications(filter: NotificationFilter): Promise<NotificationRow[]> {
    const where = [`kind = ${sqlString(filter.kind)}`];
    if (filter.model !== undefined) where.push(`model = ${sqlString(filter.model)}`);
    if (filter.status !== undefined) where.push(`status = ${sqlString(filter.status)}`);
    if (filter.sinceMs !== undefined)
      where.push(
        `created_at >= ${sqlDateTime(filter.sinceMs)}`,
        `created_at_ms >= ${sqlNumber(Math.floor(filter.sinceMs))}`,
      );
    const rows = await this.select<RawNotification>(
      `SELECT notification_id, any(kind) AS n_kind, any(group_key) AS n_group_key, any(model) AS n_model,
          any(status) AS n_status, min(created_at_ms) AS n_created_ms, any(body) AS n_body
        FROM ${this.db}.alert_notifications WHERE ${where.join(' AND ')}
        GROUP BY notification_id
        ORDER BY n_created_ms DESC, notification_id
        LIMIT ${sqlNumber(filter.offset)}, ${sqlNumber(filter.limit)}`,
      'list alerts',
    );
    return rows.map((row) => ({
      notificationId: row.notification_id,
      kind: row.n_kind === 'event' ? 'event' : 'alert',
      groupKey: row.n_group_key,
      model: row.n_model,
      status: row.n_status,
      createdAtMs: Number(row.n_created_ms),
      body: row.n_body,
    }));
  }

  private insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    return insertObjects(this.store, table, rows);
  }

  private select<Row>(query: string, operation: string): Promise<Row[]> {
    return this.store.select<Row>(operation, query);
  }
}

export interface NotificationFilter {
  kind: 'alert' | 'event';
  model?: string;
  status?: string;
  sinceMs?: number;
  limit: number;
  offset: number;
}

export interface DeliverySummary {
  deliveryId: string;
  notificationId: string;
  sink: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  lastAttemptAtMs: number | null;
}

// ClickHouse quotes 64-bit integers in JSON, hence string | number.
type Num = number | string;

interface RawPending {
  delivery_id: string;
  o_notification: string;
  o_sink: string;
  o_model: string;
  o_seq: Num;
  o_created_ms: Num;
  o_message: string;
  d_attempts: Num;
  d_status: string;
  d_error: string;
  d_next_ms: Num;
}

interface RawDelivery {
  delivery_id: string;
  o_notification: string;
  o_sink: string;
  d_attempts: Num;
  d_status: string;
  d_error: string;
  d_last_ms: Num;
}

interface RawNotification {
  notification_id: string;
  n_kind: string;
  n_group_key: string;
  n_model: string;
  n_status: string;
  n_created_ms: Num;
  n_body: string;
}
