import type { Router } from 'express';
import express, { type Request } from 'express';
import { z } from 'zod';
import type { Retuner } from '../../retune/orchestrator/index.js';
import { RetuneError } from '../../retune/registry/index.js';
import { DriftguardError } from '../../kernel/errors.js';
import { MODEL_NAME_PATTERN, MODEL_NAME_RULE } from '../../kernel/names.js';
import { ApiError } from './api-errors.js';
import { modelFromPath, parseInput } from './request-input.js';

/**
 * Retune API. `read` holds the GET routes (mount with the read routes), `write` the POST routes
 * (mount with the write routes: they need the bearer token).
 *
 *   POST /v1/models/:model/retune     {force?}                → 202 {studyId, model}
 *   GET  /v1/studies?model=&state=&limit=&offset=             → {studies: [...]} (state: waiting|running|…)
 *   GET  /v1/studies/:id                                      → {study: {..., trials: [...]}}
 *   GET  /v1/models/:model/versions                           → {versions: [...]}
 *   GET  /v1/models/:model/aliases                            → {champion, challenger, history: [...]}
 *   GET  /v1/models/:model/decisions                          → {decisions: [...]}
 *   POST /v1/models/:model/promote    {version, reason?, actor?, dryRun?} → {dryRun, event}
 *   POST /v1/models/:model/rollback   {to?, reason?, actor?, dryRun?}     → {dryRun, event}
 *   POST /v1/studies/:id/cancel                               → 202 {studyId, cancelled: true}
 */
export interface RetuneRoutesDeps {
  readonly retuner: Pick<
    Retuner,
    | 'trigger'
    | 'listStudies'
    | 'getStudy'
    | 'versions'
    | 'aliases'
    | 'decisions'
    | 'promote'
    | 'rollback'
    | 'cancel'
  >;
  /** @default 65536 */
  readonly maxBodyBytes?: number;
}

export const MAX_STUDIES_LIMIT = 500;

const modelParam = z.string().regex(MODEL_NAME_PATTERN, { message: MODEL_NAME_RULE });
const studiesQuery = z
  .object({
    model: modelParam.optional(),
    state: z.enum(['waiting', 'running', 'completed', 'failed', 'cancelled']).optional(),
    limit: z.coerce.number().int().min(1).max(MAX_STUDIES_LIMIT).default(50),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();
const actor = z.string().min(1).max(128).optional();
const retuneBody = z.object({ force: z.boolean().optional() }).strict();
const promoteBody = z
  .object({
    version: z.string().min(1).max(256),
    reason: z.string().max(2000).optional(),
    actor,
    dryRun: z.boolean().optional(),
  })
  .strict();
const rollbackBody = z
  .object({
    to: z.string().min(1).max(256).optional(),
    reason: z.string().max(2000).optional(),
    actor,
    dryRun: z.boolean().optional(),
  })
  .strict();

const model = (req: Request): string => modelFromPath(req, modelParam);

/** Maps the retune taxonomy onto the API catalogue by code. */
export function toRetuneApiError(error: unknown): unknown {
  if (error instanceof DriftguardError && error.code === 'STORE_UNAVAILABLE') {
    // The store's own text stays in the log (the error handler logs the cause), out of the answer.
    return new ApiError(
      'store_unavailable',
      `ClickHouse is unavailable (${error.publicMessage}); retry later`,
    );
  }
  if (!(error instanceof RetuneError)) return error;
  switch (error.code) {
    case 'RETUNE_NOT_FOUND':
      return new ApiError('version_not_found', error.message, error.details);
    case 'RETUNE_CONFLICT':
      return new ApiError('retune_conflict', error.message, error.details);
    case 'RETUNE_REFUSED':
      return new ApiError('retune_refused', error.message, error.details);
    case 'RETUNE_INVALID':
      return new ApiError('invalid_body', error.message, error.details);
  }
}

async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toRetuneApiError(error);
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * A study for the API: the window it learns from as an object (policy, drift onset, bounds, and
 * while it waits for labels the rows counted against those needed), times as ISO strings.
 */
function studyJson(s: Awaited<ReturnType<Retuner['listStudies']>>[number]) {
  const { snapshot: _snapshot, dataset: _dataset, window, createdAtMs, updatedAtMs, ...rest } = s;
  return {
    ...rest,
    window: windowJson(window),
    createdAt: iso(createdAtMs),
    updatedAt: iso(updatedAtMs),
  };
}

function windowJson(text: string): Record<string, unknown> | null {
  if (text === '') return null;
  try {
    const window = JSON.parse(text) as Record<string, unknown>;
    const out: Record<string, unknown> = { ...window };
    for (const key of ['onsetMs', 'sinceMs', 'untilMs', 'countedAtMs'] as const) {
      const value = window[key];
      if (typeof value === 'number') out[key.replace(/Ms$/, '')] = iso(value);
    }
    return out;
  } catch {
    return null;
  }
}

export function retuneRoutes(deps: RetuneRoutesDeps): { read: Router; write: Router } {
  const { retuner } = deps;
  const read = express.Router();
  const write = express.Router();
  const body = express.json({ limit: deps.maxBodyBytes ?? 65_536, type: () => true });

  read.get('/v1/studies', async (req, res) => {
    const query = parseInput(studiesQuery, req.query, 'query');
    const studies = await mapped(() =>
      retuner.listStudies({
        limit: query.limit,
        offset: query.offset,
        ...(query.model === undefined ? {} : { model: query.model }),
        ...(query.state === undefined ? {} : { state: query.state }),
      }),
    );
    res.json({ studies: studies.map(studyJson), limit: query.limit, offset: query.offset });
  });

  read.get('/v1/studies/:id', async (req, res) => {
    const id = req.params['id'] ?? '';
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(id))
      throw new ApiError('invalid_query', `invalid study id ${JSON.stringify(id)}`);
    const study = await mapped(() => retuner.getStudy(id));
    if (study === undefined) throw new ApiError('study_not_found', `no retune study ${JSON.stringify(id)}`);
    const { trials, live, ...record } = study;
    res.json({
      study: {
        ...studyJson(record),
        live,
        trials: trials.map(({ startedAtMs, finishedAtMs, updatedAtMs, ...t }) => ({
          ...t,
          startedAt: iso(startedAtMs),
          finishedAt: finishedAtMs === 0 ? null : iso(finishedAtMs),
          updatedAt: iso(updatedAtMs),
        })),
      },
    });
  });

  read.get('/v1/models/:model/versions', async (req, res) => {
    const versions = await mapped(() => retuner.versions(model(req)));
    res.json({ versions: versions.map(({ createdAtMs, ...v }) => ({ ...v, createdAt: iso(createdAtMs) })) });
  });

  read.get('/v1/models/:model/aliases', async (req, res) => {
    const aliases = await mapped(() => retuner.aliases(model(req)));
    res.json({
      champion: aliases.champion ?? null,
      challenger: aliases.challenger ?? null,
      history: aliases.history.map(({ atMs, ...e }) => ({ ...e, at: iso(atMs) })),
    });
  });

  read.get('/v1/models/:model/decisions', async (req, res) => {
    const decisions = await mapped(() => retuner.decisions(model(req)));
    res.json({
      decisions: decisions.map(({ decidedAtMs, ...d }) => ({ ...d, decidedAt: iso(decidedAtMs) })),
    });
  });

  write.post('/v1/models/:model/retune', body, async (req, res) => {
    const name = model(req);
    const input = parseInput(retuneBody, req.body ?? {}, 'body', 'invalid_body');
    const result = await mapped(() =>
      retuner.trigger(name, { source: 'api', ...(input.force === undefined ? {} : { force: input.force }) }),
    );
    res.status(202).json(result);
  });

  write.post('/v1/models/:model/promote', body, async (req, res) => {
    const name = model(req);
    const input = parseInput(promoteBody, req.body, 'body', 'invalid_body');
    const change = await mapped(() =>
      retuner.promote(name, input.version, {
        actor: input.actor ?? 'api',
        ...(input.reason === undefined ? {} : { reason: input.reason }),
        dryRun: input.dryRun === true,
      }),
    );
    res.json({ dryRun: change.dryRun, event: { ...change.event, at: iso(change.event.atMs) } });
  });

  write.post('/v1/models/:model/rollback', body, async (req, res) => {
    const name = model(req);
    const input = parseInput(rollbackBody, req.body ?? {}, 'body', 'invalid_body');
    const change = await mapped(() =>
      retuner.rollback(name, {
        actor: input.actor ?? 'api',
        ...(input.reason === undefined ? {} : { reason: input.reason }),
        ...(input.to === undefined ? {} : { to: input.to }),
        dryRun: input.dryRun === true,
      }),
    );
    res.json({ dryRun: change.dryRun, event: { ...change.event, at: iso(change.event.atMs) } });
  });

  write.post('/v1/studies/:id/cancel', (req, res) => {
    const id = req.params['id'] ?? '';
    if (!retuner.cancel(id)) {
      throw new ApiError('study_not_found', `study ${JSON.stringify(id)} is not running in this daemon`);
    }
    res.status(202).json({ studyId: id, cancelled: true });
  });

  return { read, write };
}
