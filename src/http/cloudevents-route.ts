import express, { type Router } from 'express';
import type { HttpCloudEventIngest } from '../decoders/index.js';
import type { Metrics } from '../metrics.js';
import { retry } from '../../kernel/retry.js';
import { predictionRow } from '../store/event-rows.js';
import type { EventStore } from '../store/event-store.js';
import type { Logger } from '../../kernel/logger.js';
import { DriftguardError } from '../../kernel/errors.js';
import { ApiError } from './api-errors.js';
import { requireToken } from './auth.js';
import { bodyBudget, type BodyBudget } from './body-budget.js';

export interface CloudEventsRouteDeps {
  readonly ingest: HttpCloudEventIngest;
  readonly store: EventStore;
  readonly metrics: Metrics;
  readonly maxBodyBytes: number;
  /** Undefined when the route is open (http.openCloudEvents). */
  readonly apiToken: string | undefined;
  readonly open: boolean;
  /** Shared with every route: bounds what all requests hold together (see body-budget.ts). */
  readonly budget: BodyBudget;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * `POST /v1/cloudevents`: KServe InferenceLogger events over HTTP, binary (`ce-*` headers) or
 * structured (`application/cloudevents+json`). A request waits for its response (or the other
 * way round); the pair is stored as predictions. 202 = held for its partner, 200 = stored.
 */
export function cloudEventsRoute(deps: CloudEventsRouteDeps): Router {
  const router = express.Router();
  const now = deps.now ?? Date.now;
  const auth = deps.open ? [] : [requireToken(deps.apiToken)];
  router.post(
    '/v1/cloudevents',
    ...auth,
    bodyBudget(deps.budget, deps.maxBodyBytes),
    express.raw({ type: () => true, limit: deps.maxBodyBytes }),
    async (req, res) => {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers))
        if (typeof value === 'string') headers[name] = value;
      const result = deps.ingest.submit(headers, body, now());
      const topic = 'http:cloudevents';
      if (result.status === 'rejected') {
        deps.metrics.ingestEvents.inc({ topic, result: 'rejected' });
        throw new ApiError(
          'invalid_body',
          `${result.rejection.code} at ${result.rejection.path}: ${result.rejection.message}`,
          result.rejection,
        );
      }
      if (result.status === 'held') {
        res.status(202).json({ status: 'held', message: 'stored once its request/response partner arrives' });
        return;
      }
      const receivedAt = now();
      const lines = result.predictions.map(
        (event) => `${JSON.stringify(predictionRow(event, 'http', receivedAt))}\n`,
      );
      try {
        await retry(() => deps.store.insert({ predictions: lines, outcomes: [] }), {
          maxAttempts: 3,
          initialDelayMs: 100,
          onRetry: (error, attempt) => {
            deps.metrics.storeRetries.inc();
            deps.logger.warn({ err: error, attempt }, 'storing CloudEvents predictions failed; retrying');
          },
        });
      } catch (error) {
        // The database's text goes to the log, never into the answer.
        deps.logger.error({ err: error }, 'storing CloudEvents predictions failed');
        const retriable = error instanceof DriftguardError && error.retriable;
        throw new ApiError(
          retriable ? 'store_unavailable' : 'store_failed',
          'predictions not stored; resend both halves later',
        );
      }
      deps.metrics.ingestEvents.inc({ topic, result: 'accepted' }, lines.length);
      res.status(200).json({ status: 'stored', predictions: lines.length });
    },
  );
  return router;
}
