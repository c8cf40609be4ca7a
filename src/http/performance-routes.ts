import { Router, type Request } from 'express';
import { z } from 'zod';
import { MAX_LIST_LIMIT } from '../alerts/index.js';
import type { EstimationStore, PerformanceHistoryRow } from '../monitor/estimation/estimation-store.js';
import { ESTIMATED_METRICS } from '../monitor/options.js';
import { DriftguardError } from '../../kernel/errors.js';
import { ApiError } from './api-errors.js';
import { modelFromPath, parseInput } from './request-input.js';

/** Estimated (and realized) performance per evaluation window: GET /v1/models/:model/performance. */
export interface PerformanceRoutesDeps {
  readonly estimation: Pick<EstimationStore, 'performanceHistory' | 'latestStatus'>;
  readonly now?: () => number;
}

const modelParam = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/);
const performanceQuery = z
  .object({
    from: z.coerce.number().int().nonnegative().optional(),
    to: z.coerce.number().int().nonnegative().optional(),
    metric: z.enum(ESTIMATED_METRICS).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();

function storeFailure(error: unknown): never {
  if (error instanceof DriftguardError && error.retriable) throw new ApiError('store_unavailable');
  throw error;
}

const model = (req: Request): string => modelFromPath(req, modelParam);

export function performanceRoutes(deps: PerformanceRoutesDeps): Router {
  const router = Router();
  const now = deps.now ?? Date.now;
  router.get('/v1/models/:model/performance', async (req, res) => {
    const name = model(req);
    const q = parseInput(performanceQuery, req.query, 'query');
    const toMs = q.to ?? now();
    const fromMs = q.from ?? toMs - 24 * 3_600_000;
    if (fromMs > toMs) throw new ApiError('invalid_query', `from (${fromMs}) is after to (${toMs})`);
    const [rows, status] = await Promise.all([
      deps.estimation
        .performanceHistory({
          model: name,
          fromMs,
          toMs,
          limit: q.limit,
          offset: q.offset,
          ...(q.metric === undefined ? {} : { metric: q.metric }),
        })
        .catch(storeFailure),
      deps.estimation.latestStatus(name).catch(storeFailure),
    ]);
    res.json({
      model: name,
      fromMs,
      toMs,
      estimators:
        status === undefined
          ? null
          : {
              fittedAtMs: status.fittedAtMs,
              referenceCreatedAtMs: status.referenceCreatedAtMs,
              ...status.status,
            },
      results: rows.map(resultJson),
      limit: q.limit,
      offset: q.offset,
      nextOffset: rows.length === q.limit ? q.offset + q.limit : null,
    });
  });
  return router;
}

function resultJson(r: PerformanceHistoryRow) {
  return {
    evaluatedAtMs: Number(r.evaluated_at_ms),
    windowStartMs: Number(r.window_start_ms),
    windowEndMs: Number(r.window_end_ms),
    metric: r.metric,
    method: r.method,
    estimated: r.estimated,
    estimatedLower: r.estimated_lower,
    estimatedUpper: r.estimated_upper,
    realized: r.realized,
    labelCoverage: r.coverage,
    labelled: Number(r.labelled),
    events: Number(r.total),
    referenceValue: r.reference_value,
    referenceLower: r.reference_lower,
    referenceUpper: r.reference_upper,
    threshold: r.threshold,
    breaching: Number(r.breaching) === 1,
  };
}
