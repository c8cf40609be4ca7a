import { errorMessage } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import { backoffDelayMs } from '../../kernel/retry.js';
import type { AttemptRow, PendingDelivery } from './alert-store.js';
import type { AlertMetrics } from './metrics.js';
import type { CompiledAlerts } from './options.js';
import { deliverRequests, type DeliveryOutcome, type FetchLike } from './sinks/http-delivery.js';
import type { Sink, SinkRequest } from './sinks/sink.js';
import type { OutboundMessage } from './types.js';

/**
 * Sends what the outbox holds. All delivery state is in ClickHouse, so a restarted daemon
 * picks up exactly where the last one stopped; nothing is kept in memory between runs.
 *
 * Per sink, deliveries go out in the order they were produced, and a sink's queue stops at
 * its first delivery that is not due or fails retriably, so a resolve never reaches a receiver
 * before the firing it ends. A retriable failure schedules the next attempt at
 * `now + backoffDelayMs(attempt)` (the shared backoff, capped by delivery.maxDelayMs), a
 * permanent one is recorded "dead" and the queue moves on; deliveries older than
 * delivery.maxAgeMs are given up as dead.
 *
 * A crash between a send and its record makes the next run send it again, with the same
 * delivery id: receivers deduplicate on X-Driftguard-Delivery (PagerDuty on dedup_key).
 */

/** The dispatcher's port to storage (AlertStore is the real one; tests pass a plain object). */
export interface DeliveryLog {
  pendingDeliveries(sinceMs: number, limit: number): Promise<PendingDelivery[]>;
  insertAttempts(rows: readonly AttemptRow[]): Promise<void>;
}

export interface DispatcherDeps {
  store: DeliveryLog;
  sinks: readonly Sink[];
  delivery: CompiledAlerts['delivery'];
  logger: Logger;
  metrics: AlertMetrics;
  now: () => number;
  fetch?: FetchLike;
  random?: () => number;
}

export interface DispatchSummary {
  delivered: number;
  failed: number;
  dead: number;
  /** Left for a later run (not due yet, or behind a failing delivery of the same sink). */
  waiting: number;
}

export class DeliveryDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<DispatchSummary> | undefined;
  private rerun = false;
  private stopped = true;
  private readonly sinksByName: Map<string, Sink>;
  private readonly unknownSinksLogged = new Set<string>();

  constructor(private readonly deps: DispatcherDeps) {
    this.sinksByName = new Map(deps.sinks.map((sink) => [sink.name, sink]));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Runs as soon as possible (new deliveries were written); coalesces with a run in progress. */
  kick(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.rerun = true;
      return;
    }
    this.schedule(0);
  }

  /** Stops the timer and waits for a run in progress. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One pass over the outbox. Public for tests and for a final flush. */
  async runOnce(): Promise<DispatchSummary> {
    if (this.running !== undefined) return this.running;
    this.running = this.dispatch().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.runOnce()
        .catch((error: unknown) => {
          // The store is down or refused a query: nothing was lost (state is in the store); try again next interval.
          this.deps.logger.warn({ err: errorMessage(error) }, 'alert dispatcher run failed; will retry');
        })
        .finally(() => {
          const again = this.rerun;
          this.rerun = false;
          this.schedule(again ? 0 : this.deps.delivery.dispatchIntervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  private async dispatch(): Promise<DispatchSummary> {
    const { delivery, store, metrics } = this.deps;
    const now = this.deps.now();
    // Look back twice the give-up age so deliveries that expired while we were down are marked dead.
    const pending = await store.pendingDeliveries(now - 2 * delivery.maxAgeMs, delivery.batchSize);
    const queues = new Map<string, PendingDelivery[]>(this.deps.sinks.map((sink) => [sink.name, []]));
    for (const row of pending) {
      const queue = queues.get(row.sink);
      if (queue === undefined) {
        if (!this.unknownSinksLogged.has(row.sink)) {
          this.unknownSinksLogged.add(row.sink);
          this.deps.logger.warn(
            { sink: row.sink },
            'outbox holds deliveries for a sink that is no longer configured; they wait until it is configured again',
          );
        }
        continue;
      }
      queue.push(row);
    }
    for (const [sink, queue] of queues) metrics.pending.set({ sink }, queue.length);
    const summaries = await Promise.all(
      [...queues].map(([name, queue]) => this.drain(this.sinksByName.get(name) as Sink, queue)),
    );
    return summaries.reduce(
      (total, s) => ({
        delivered: total.delivered + s.delivered,
        failed: total.failed + s.failed,
        dead: total.dead + s.dead,
        waiting: total.waiting + s.waiting,
      }),
      { delivered: 0, failed: 0, dead: 0, waiting: 0 },
    );
  }

  private async drain(sink: Sink, queue: readonly PendingDelivery[]): Promise<DispatchSummary> {
    const summary: DispatchSummary = { delivered: 0, failed: 0, dead: 0, waiting: 0 };
    const { delivery, store, metrics, logger } = this.deps;
    for (const [index, row] of queue.entries()) {
      const now = this.deps.now();
      const log = {
        sink: sink.name,
        sinkType: sink.type,
        deliveryId: row.deliveryId,
        model: row.model,
        attempt: row.attempts + 1,
      };
      if (now - row.createdAtMs > delivery.maxAgeMs) {
        const error = `given up after ${row.attempts} attempt(s) over ${delivery.maxAgeMs} ms; last error: ${row.lastError || 'none'}`;
        await store.insertAttempts([attemptRow(row, 'dead', null, error, now, 0)]);
        metrics.deliveries.inc({ sink: sink.name, result: 'dead' });
        logger.error({ ...log, err: error }, 'alert delivery expired');
        summary.dead++;
        continue;
      }
      if (row.attempts > 0 && row.nextAttemptAtMs > now) {
        summary.waiting += queue.length - index;
        break;
      }
      const outcome = await this.send(sink, row);
      const at = this.deps.now();
      const attempt = row.attempts + 1;
      if (outcome.result === 'delivered') {
        await store.insertAttempts([attemptRow(row, 'delivered', outcome.httpStatus, '', at, 0)]);
        metrics.deliveries.inc({ sink: sink.name, result: 'delivered' });
        logger.info({ ...log, httpStatus: outcome.httpStatus }, 'alert delivered');
        summary.delivered++;
        continue;
      }
      if (outcome.result === 'permanent') {
        await store.insertAttempts([attemptRow(row, 'dead', outcome.httpStatus, outcome.error, at, 0)]);
        metrics.deliveries.inc({ sink: sink.name, result: 'dead' });
        logger.error(
          { ...log, httpStatus: outcome.httpStatus, err: outcome.error },
          'alert delivery refused by the receiver; not retried',
        );
        summary.dead++;
        continue;
      }
      const delayMs = backoffDelayMs(attempt, { ...delivery, random: this.deps.random ?? Math.random });
      await store.insertAttempts([
        attemptRow(row, 'failed', outcome.httpStatus, outcome.error, at, at + delayMs),
      ]);
      metrics.deliveries.inc({ sink: sink.name, result: 'failed' });
      logger.warn(
        { ...log, httpStatus: outcome.httpStatus, err: outcome.error, retryInMs: delayMs },
        'alert delivery failed; will retry',
      );
      summary.failed++;
      summary.waiting += queue.length - index - 1;
      break;
    }
    return summary;
  }

  private async send(sink: Sink, row: PendingDelivery): Promise<DeliveryOutcome> {
    let requests: SinkRequest[];
    try {
      requests = sink.requests(JSON.parse(row.message) as OutboundMessage, row.deliveryId, this.deps.now());
    } catch (error) {
      // A row we cannot turn into a request never will be; recording it dead keeps it from
      // blocking the sink's queue forever.
      return {
        result: 'permanent',
        httpStatus: null,
        error: `sink ${sink.name}: cannot build the request: ${errorMessage(error)}`,
      };
    }
    const stopTimer = this.deps.metrics.deliverySeconds.startTimer({ sink: sink.name });
    try {
      return await deliverRequests(sink, requests, this.deps.fetch);
    } finally {
      stopTimer();
    }
  }
}

function attemptRow(
  row: PendingDelivery,
  status: AttemptRow['status'],
  httpStatus: number | null,
  error: string,
  atMs: number,
  nextAttemptAtMs: number,
): AttemptRow {
  return {
    deliveryId: row.deliveryId,
    notificationId: row.notificationId,
    sink: row.sink,
    attempt: row.attempts + 1,
    status,
    httpStatus,
    error,
    atMs,
    nextAttemptAtMs,
  };
}
