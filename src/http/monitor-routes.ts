import express, { Router, type Request } from 'express';
import { z } from 'zod';
import type { Alerting } from '../alerts/index.js';
import { MAX_LIST_LIMIT } from '../alerts/index.js';
import type { HealthRow, MonitorStore, StoredCounts } from '../monitor/monitor-store.js';
import type { AttributionRow, EstimationStore } from '../monitor/estimation/estimation-store.js';
import { buildReferenceProfile, parseSample, SampleError } from '../monitor/reference.js';
import { modelSettings, type CompiledMonitoring, type ResolvedModelSettings } from '../monitor/options.js';
import { DriftguardError } from '../../kernel/errors.js';
import { MODEL_NAME_PATTERN, MODEL_NAME_RULE } from '../../kernel/names.js';
import { ApiError } from './api-errors.js';
import { modelFromPath, parseInput } from './request-input.js';

/** A store failure becomes the catalogue's 503 when it is worth retrying, else it stays a 500. */
function storeFailure(error: unknown): never {
  if (error instanceof DriftguardError && error.retriable) throw new ApiError('store_unavailable');
  throw error;
}

/** Monitoring API: models and their health, drift history, alerts, reference upload. */
export interface MonitorRoutesDeps {
  readonly store: MonitorStore;
  readonly alerting: Pick<Alerting, 'listAlerts'>;
  readonly config: CompiledMonitoring;
  readonly maxBodyBytes: number;
  readonly onReference?: (model: string) => void;
  /** Reserves request bodies against the shared budget (see body-budget.ts). */
  readonly bodyBudget?: express.RequestHandler;
  readonly now?: () => number;
  /** The features explaining a warning or critical model, served with its health. */
  readonly estimation?: Pick<EstimationStore, 'latestAttribution'>;
}

const modelParam = z.string().regex(MODEL_NAME_PATTERN, { message: MODEL_NAME_RULE });
const paging = {
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(100),
  offset: z.coerce.number().int().min(0).default(0),
};
const driftQuery = z
  .object({
    from: z.coerce.number().int().nonnegative().optional(),
    to: z.coerce.number().int().nonnegative().optional(),
    feature: z.string().min(1).max(128).optional(),
    detector: z.string().min(1).max(64).optional(),
    /** A segment's rows (`country=DE`); without it, the whole model's. */
    segment: z
      .string()
      .min(3)
      .max(400)
      .regex(/^[A-Za-z0-9_.:-]{1,128}=/, 'a segment is <feature or tag>=<value>')
      .optional(),
    ...paging,
  })
  .strict();
const alertsQuery = z
  .object({
    model: modelParam.optional(),
    status: z.enum(['firing', 'resolved']).optional(),
    since: z.coerce.number().int().nonnegative().optional(),
    ...paging,
  })
  .strict();

const model = (req: Request): string => modelFromPath(req, modelParam);

/** Read routes (GET). */
export function monitorReadRoutes(deps: MonitorRoutesDeps): Router {
  const router = Router();
  const now = deps.now ?? Date.now;
  router.get('/v1/models', async (_req, res) => {
    const nowMs = now();
    const windows = windowStarts(deps.config, nowMs);
    const [health, seen, stored] = await Promise.all([
      deps.store.latestHealth().catch(storeFailure),
      deps.store.seenModels(nowMs - deps.config.discoverLookbackMs).catch(storeFailure),
      deps.store.storedCounts(windows.byModel, windows.defaultStartMs).catch(storeFailure),
    ]);
    const byModel = new Map(health.map((h) => [h.model, h]));
    const seenBy = new Map(seen.map((s) => [s.model, s]));
    const names = [
      ...new Set([...Object.keys(deps.config.models), ...seenBy.keys(), ...byModel.keys(), ...stored.keys()]),
    ].sort();
    res.json({
      models: names.map((name) => {
        const h = byModel.get(name);
        const s = seenBy.get(name);
        return {
          model: name,
          configured: name in deps.config.models,
          recentEvents: s?.events ?? 0,
          lastEventMs: s?.lastMs ?? null,
          stored: storedJson(stored.get(name), modelSettings(deps.config, name).window),
          health: h === undefined ? null : healthJson(h),
        };
      }),
    });
  });
  router.get('/v1/models/:model/health', async (req, res) => {
    const name = model(req);
    const [[h], attribution] = await Promise.all([
      deps.store.latestHealth(name).catch(storeFailure),
      deps.estimation?.latestAttribution(name).catch(storeFailure) ?? Promise.resolve([]),
    ]);
    if (h === undefined)
      throw new ApiError(
        'model_not_found',
        `no evaluation of model ${JSON.stringify(req.params['model'])} yet`,
      );
    res.json({ ...healthJson(h), attribution: attribution.map(attributionJson) });
  });
  router.get('/v1/models/:model/drift', async (req, res) => {
    const q = parseInput(driftQuery, req.query, 'query');
    const toMs = q.to ?? now();
    const rows = await deps.store
      .driftHistory({
        model: model(req),
        fromMs: q.from ?? toMs - 24 * 3_600_000,
        toMs,
        limit: q.limit,
        offset: q.offset,
        ...(q.feature === undefined ? {} : { feature: q.feature }),
        ...(q.detector === undefined ? {} : { detector: q.detector }),
        ...(q.segment === undefined ? {} : { segment: q.segment }),
      })
      .catch(storeFailure);
    res.json({
      results: rows,
      limit: q.limit,
      offset: q.offset,
      nextOffset: rows.length === q.limit ? q.offset + q.limit : null,
    });
  });
  router.get('/v1/alerts', async (req, res) => {
    const q = parseInput(alertsQuery, req.query, 'query');
    const alerts = await deps.alerting
      .listAlerts({
        limit: q.limit,
        offset: q.offset,
        ...(q.model === undefined ? {} : { model: q.model }),
        ...(q.status === undefined ? {} : { status: q.status }),
        ...(q.since === undefined ? {} : { sinceMs: q.since }),
      })
      .catch(storeFailure);
    res.json({
      alerts,
      limit: q.limit,
      offset: q.offset,
      nextOffset: alerts.length === q.limit ? q.offset + q.limit : null,
    });
  });
  return router;
}

/** Write routes (behind the bearer token). Body: JSON lines, a JSON array, or CSV with a header. */
export function monitorWriteRoutes(deps: MonitorRoutesDeps): Router {
  const router = Router();
  const now = deps.now ?? Date.now;
  router.post(
    '/v1/models/:model/reference',
    ...(deps.bodyBudget === undefined ? [] : [deps.bodyBudget]),
    express.text({ type: () => true, limit: deps.maxBodyBytes }),
    async (req, res) => {
      const name = model(req);
      const body: unknown = req.body;
      if (typeof body !== 'string' || body.trim().length === 0) {
        throw new ApiError(
          'invalid_body',
          'send the reference sample as JSON lines, a JSON array or CSV with a header',
        );
      }
      let profile;
      try {
        const rows = parseSample(body);
        if (rows.length < 2) throw new SampleError('a reference needs at least 2 rows');
        profile = buildReferenceProfile(rows, deps.config.models[name]?.features ?? {}, 'upload');
      } catch (error) {
        if (error instanceof SampleError || error instanceof SyntaxError)
          throw new ApiError('invalid_body', error.message);
        throw error;
      }
      await deps.store.saveReference(name, profile, now()).catch(storeFailure);
      deps.onReference?.(name);
      res.status(201).json({
        model: name,
        rows: profile.rows,
        features: Object.fromEntries(Object.entries(profile.features).map(([f, p]) => [f, p.kind])),
      });
    },
  );
  return router;
}

/**
 * Where each model's current window starts, for the stored counts: `now - durationMs` for time
 * windows; event-count windows count from the start (their window is the newest `count` rows).
 */
function windowStarts(
  config: CompiledMonitoring,
  nowMs: number,
): { byModel: Map<string, number>; defaultStartMs: number } {
  const start = (window: ResolvedModelSettings['window']): number =>
    window.type === 'time' ? nowMs - window.durationMs : 0;
  const byModel = new Map(
    Object.keys(config.models).map((name) => [name, start(modelSettings(config, name).window)]),
  );
  return { byModel, defaultStartMs: start(config.defaults.window) };
}

/** Rows stored; a replayed copy counts until ClickHouse merges it away. */
function storedJson(counts: StoredCounts | undefined, window: ResolvedModelSettings['window']) {
  const of = (c: { total: number; window: number } | undefined) => ({
    total: c?.total ?? 0,
    window: window.type === 'time' ? (c?.window ?? 0) : Math.min(c?.total ?? 0, window.count),
  });
  return { predictions: of(counts?.predictions), outcomes: of(counts?.outcomes) };
}

/** One ranked feature: its share of blame and the raw evidence of each kind (null where not used). */
function attributionJson(a: AttributionRow) {
  return {
    rank: Number(a.rank),
    feature: a.feature,
    score: a.score,
    effect: a.effect,
    reconstruction: a.reconstruction,
    performance: a.performance,
    basis: a.basis === '' ? [] : a.basis.split(','),
  };
}

function healthJson(h: HealthRow) {
  return {
    model: h.model,
    status: h.status,
    reasons: JSON.parse(h.reasons) as string[],
    evaluatedAtMs: Number(h.evaluated_at_ms),
    windowEvents: Number(h.window_count),
    driftedFeatures: Number(h.drifted_features),
    replica: h.replica,
  };
}
