import type { Registry } from 'prom-client';
import { DriftguardError, isRetriable } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import { retry } from '../../kernel/retry.js';
import type { Store } from '../../kernel/store.js';
import type { Migration } from '../../kernel/migrations.js';
import { AlertStore, type NotificationRow, type OutboxRow } from './alert-store.js';
import { DeliveryDispatcher, type DispatchSummary } from './dispatcher.js';
import { contentId, deliveryId } from './fingerprint.js';
import { listAlerts, type ListAlertsQuery, type ListedNotification } from './list-alerts.js';
import { createAlertMetrics, type AlertMetrics } from './metrics.js';
import { ALERT_MIGRATIONS } from './migrations.js';
import { compileAlertsOptions, type AlertsSectionInput, type CompiledAlerts } from './options.js';
import {
  applyEvaluations,
  emptyPolicyState,
  firingRules,
  type PolicyState,
  type RuleState,
} from './policy.js';
import { createSinks } from './sinks/create-sinks.js';
import type { FetchLike } from './sinks/http-delivery.js';
import type { Sink } from './sinks/sink.js';
import {
  SEVERITIES,
  type ModelEvent,
  type Notification,
  type OutboundMessage,
  type RuleEvaluation,
  type Severity,
} from './types.js';

export interface AlertingDeps {
  /** Where the alert tables are (see alert-store.ts). */
  store: Store;
  /** The `alerts:` config section: compiled, parsed by the daemon's schema, or raw input. */
  config: CompiledAlerts | AlertsSectionInput;
  logger: Logger;
  registry: Registry;
  /** The clock. @default Date.now */
  now?: () => number;
  /** @default global fetch */
  fetch?: FetchLike;
  /** Jitter source for retry delays. @default Math.random */
  random?: () => number;
}

export interface ModelEventInput {
  model: string;
  /** e.g. "retune.completed", "promotion", "rollback". */
  kind: string;
  summary: string;
  details?: Record<string, unknown>;
  /** @default "info" */
  severity?: Severity | 'info';
  /** @default now */
  atMs?: number;
  /** Give one to make a re-sent event idempotent; else derived from the other fields. */
  id?: string;
}

const EVENT_KIND = /^[a-z][a-z0-9_.-]{0,63}$/;

/**
 * The alerting subsystem's one entry point for the daemon.
 *
 *     const alerting = new Alerting({ store, config: config.alerts, logger, registry });
 *     // migrations: ALERT_MIGRATIONS (also alerting.migrations) go into the daemon's list
 *     await alerting.start();                       // loads policy state, starts the dispatcher
 *     await alerting.handle(evaluations);           // each monitor cycle
 *     await alerting.notifyEvent({ model, kind: 'promotion', summary });
 *     await alerting.stop();
 *
 * handle() persists notifications and outbox rows before it returns, then the state; when it
 * throws (the store is down), the in-memory state is unchanged and calling it again with the
 * same evaluations is safe: ids are content hashes, so a second copy changes nothing.
 */
export class Alerting {
  static readonly migrations: readonly Migration[] = ALERT_MIGRATIONS;
  readonly migrations: readonly Migration[] = ALERT_MIGRATIONS;
  readonly config: CompiledAlerts;

  private readonly store: AlertStore;
  private readonly sinks: readonly Sink[];
  private readonly dispatcher: DeliveryDispatcher;
  private readonly metrics: AlertMetrics;
  private readonly logger: Logger;
  private readonly now: () => number;
  private state: PolicyState | undefined;
  /** Serialises handle() and notifyEvent(): each reads the state the previous one wrote. */
  private queue: Promise<unknown> = Promise.resolve();
  private lastStateVersionMs = 0;
  /**
   * Models whose in-memory state is current: evaluated here since their state was (re)loaded.
   * Another replica may own a model for a while (see Monitor.releaseUnowned) and move its state
   * on, so a model evaluated here for the first time, or again after `release`, is reloaded
   * first; only current models export the firing gauge.
   */
  private readonly current = new Set<string>();

  constructor(private readonly deps: AlertingDeps) {
    this.config = isCompiled(deps.config) ? deps.config : compileAlertsOptions(deps.config);
    this.logger = deps.logger.child({ component: 'alerts' });
    this.now = deps.now ?? Date.now;
    this.store = new AlertStore(deps.store);
    this.sinks = createSinks(this.config);
    this.metrics = createAlertMetrics(deps.registry);
    this.dispatcher = new DeliveryDispatcher({
      store: this.store,
      sinks: this.sinks,
      delivery: this.config.delivery,
      logger: this.logger,
      metrics: this.metrics,
      now: this.now,
      ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
      ...(deps.random === undefined ? {} : { random: deps.random }),
    });
  }

  /** Loads the persisted policy state (retrying while the store is unreachable) and starts delivering. */
  async start(): Promise<void> {
    await this.loadState();
    this.logger.info(
      {
        sinks: this.sinks.map((s) => ({ name: s.name, type: s.type })),
        firing: firingRules(this.state ?? emptyPolicyState()).length,
      },
      'alerting started',
    );
    if (this.config.enabled) this.dispatcher.start();
  }

  /** Stops the dispatcher after its current run; pending deliveries stay in the outbox. Idempotent. */
  async stop(): Promise<void> {
    await this.dispatcher.stop();
    await this.queue.catch(() => undefined);
  }

  /** Applies one cycle of evaluations; returns the notifications it enqueued. */
  handle(evaluations: readonly RuleEvaluation[]): Promise<Notification[]> {
    return this.serialised(() => this.handleNow(evaluations));
  }

  /** Sends a model lifecycle event (retune finished, promotion, rollback) through the sinks that take events. */
  notifyEvent(input: ModelEventInput): Promise<ModelEvent> {
    return this.serialised(() => this.notifyNow(input));
  }

  /** One dispatcher pass now (tests, and a last flush before shutdown). */
  dispatchOnce(): Promise<DispatchSummary> {
    return this.dispatcher.runOnce();
  }

  /**
   * This replica stopped evaluating `model` (another owns it now): forget its in-memory state
   * and firing gauge. The next evaluation here reloads its persisted state. Synchronous, so it can
   * run before a metrics scrape.
   */
  release(model: string): void {
    if (!this.current.delete(model)) return;
    for (const severity of SEVERITIES) this.metrics.firing.remove({ model, severity });
  }

  /** Alerts firing now, from the policy state. */
  firing(): RuleState[] {
    return firingRules(this.state ?? emptyPolicyState());
  }

  listAlerts(query: ListAlertsQuery = {}): Promise<ListedNotification[]> {
    return listAlerts(this.store, query);
  }

  private async handleNow(evaluations: readonly RuleEvaluation[]): Promise<Notification[]> {
    if (!this.config.enabled) return [];
    const valid = evaluations.filter((evaluation) => this.isValid(evaluation));
    const state = await this.currentState(valid.map((evaluation) => evaluation.model));
    const nowMs = this.now();
    const result = applyEvaluations(state, valid, nowMs, this.config.policy);
    const messages: OutboundMessage[] = result.notifications.map((notification) => ({
      type: 'alert',
      notification,
    }));
    const notificationRows: NotificationRow[] = result.notifications.map((n) => ({
      notificationId: n.id,
      kind: 'alert',
      groupKey: n.groupKey,
      model: n.model,
      status: n.status,
      createdAtMs: n.createdAtMs,
      body: JSON.stringify(n),
    }));
    await this.persistMessages(notificationRows, messages, nowMs);
    if (result.changedModels.length > 0) {
      const version = Math.max(nowMs, this.lastStateVersionMs + 1);
      await this.withStoreRetry(() => this.store.saveState(result.state, result.changedModels, version));
      this.lastStateVersionMs = version;
    }
    this.state = result.state;
    this.updateFiringGauge();
    for (const n of result.notifications) {
      this.metrics.notifications.inc({ status: n.status });
      this.logger.info(
        {
          model: n.model,
          status: n.status,
          notificationId: n.id,
          alerts: n.alerts.map((a) => `${a.rule}:${a.status}:${a.severity}`),
        },
        'alert notification enqueued',
      );
    }
    if (messages.length > 0) this.dispatcher.kick();
    return result.notifications;
  }

  private async notifyNow(input: ModelEventInput): Promise<ModelEvent> {
    if (!EVENT_KIND.test(input.kind)) {
      throw new DriftguardError(
        'EVENT_INVALID',
        `event kind ${JSON.stringify(input.kind)} must be lower-case letters, digits, ".", "_", "-" (e.g. "promotion")`,
        {
          retriable: false,
        },
      );
    }
    const atMs = input.atMs ?? this.now();
    const event: ModelEvent = {
      id: input.id ?? contentId(['event', input.model, input.kind, String(atMs), input.summary]),
      model: input.model,
      kind: input.kind,
      severity: input.severity ?? 'info',
      summary: input.summary,
      atMs,
      ...(input.details === undefined ? {} : { details: input.details }),
    };
    if (!this.config.enabled) return event;
    const row: NotificationRow = {
      notificationId: event.id,
      kind: 'event',
      groupKey: `{}:{model=${JSON.stringify(event.model)}}`,
      model: event.model,
      status: event.kind,
      createdAtMs: atMs,
      body: JSON.stringify(event),
    };
    await this.persistMessages([row], [{ type: 'event', event }], this.now());
    this.metrics.notifications.inc({ status: 'event' });
    this.logger.info({ model: event.model, kind: event.kind, eventId: event.id }, 'model event enqueued');
    this.dispatcher.kick();
    return event;
  }

  /** Writes the notifications and one outbox row per (message, accepting sink). */
  private async persistMessages(
    rows: NotificationRow[],
    messages: readonly OutboundMessage[],
    nowMs: number,
  ): Promise<void> {
    if (rows.length === 0) return;
    const outbox: OutboxRow[] = [];
    messages.forEach((message, seq) => {
      const id = message.type === 'alert' ? message.notification.id : message.event.id;
      const model = message.type === 'alert' ? message.notification.model : message.event.model;
      for (const sink of this.sinks) {
        const selected = sink.select(message);
        if (selected === null) continue;
        outbox.push({
          deliveryId: deliveryId(id, sink.name),
          notificationId: id,
          sink: sink.name,
          model,
          seq,
          createdAtMs: nowMs,
          message: JSON.stringify(selected),
        });
      }
    });
    await this.withStoreRetry(() => this.store.insertNotifications(rows));
    await this.withStoreRetry(() => this.store.insertOutbox(outbox));
  }

  private async loadState(): Promise<PolicyState> {
    if (this.state !== undefined) return this.state;
    const loaded = await this.withStoreRetry(() => this.store.loadState());
    this.state = loaded;
    return loaded;
  }

  /** The state, with the persisted state of `models` reloaded for those not current here. */
  private async currentState(models: readonly string[]): Promise<PolicyState> {
    const state = await this.loadState();
    const stale = [...new Set(models)].filter((model) => !this.current.has(model));
    if (stale.length === 0) return state;
    const fresh = await this.withStoreRetry(() => this.store.loadState(stale));
    const staleModels = new Set(stale);
    const rules: PolicyState['rules'] = {};
    for (const [fingerprint, rule] of Object.entries(state.rules))
      if (!staleModels.has(rule.model)) rules[fingerprint] = rule;
    Object.assign(rules, fresh.rules);
    this.state = { ...state, rules };
    for (const model of stale) this.current.add(model);
    return this.state;
  }

  private withStoreRetry<T>(operation: () => Promise<T>): Promise<T> {
    return retry(operation, {
      maxAttempts: 3,
      initialDelayMs: 200,
      maxDelayMs: 2_000,
      shouldRetry: isRetriable,
      onRetry: (error, attempt, delayMs) =>
        this.logger.warn(
          { err: error instanceof Error ? error.message : String(error), attempt, delayMs },
          'alert store write failed; retrying',
        ),
    });
  }

  private isValid(evaluation: RuleEvaluation): boolean {
    const ok =
      typeof evaluation.model === 'string' &&
      evaluation.model !== '' &&
      typeof evaluation.rule === 'string' &&
      evaluation.rule !== '' &&
      SEVERITIES.includes(evaluation.severity) &&
      [evaluation.windowStartMs, evaluation.windowEndMs, evaluation.evaluatedAtMs].every(Number.isFinite);
    if (!ok)
      this.logger.warn(
        { model: evaluation.model, rule: evaluation.rule },
        'ignored a malformed rule evaluation',
      );
    return ok;
  }

  private updateFiringGauge(): void {
    const state = this.state ?? emptyPolicyState();
    const counts = new Map<string, number>();
    for (const rule of firingRules(state))
      counts.set(
        `${rule.model}\u0000${rule.severity}`,
        (counts.get(`${rule.model}\u0000${rule.severity}`) ?? 0) + 1,
      );
    // Every model evaluated here keeps explicit zeros, so a resolved alert reads 0 rather than vanishing.
    for (const model of this.current) {
      for (const severity of SEVERITIES)
        this.metrics.firing.set({ model, severity }, counts.get(`${model}\u0000${severity}`) ?? 0);
    }
  }

  private serialised<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.queue.then(operation, operation);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function isCompiled(config: AlertingDeps['config']): config is CompiledAlerts {
  return typeof config === 'object' && config !== null && 'policy' in config && 'delivery' in config;
}
