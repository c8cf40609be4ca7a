import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from '../../kernel/logger.js';
import type { Metrics } from '../metrics.js';
import { ApiError } from './api-errors.js';
import { requireToken } from './auth.js';

export interface ReadinessCheck {
  readonly name: string;
  readonly ok: boolean;
  /** Why not ready, in words an operator can act on. */
  readonly reason?: string;
}

export interface HttpAppDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly apiToken: string | undefined;
  readonly protectReads: boolean;
  readonly protectMetrics: boolean;
  readonly readiness: () => Promise<readonly ReadinessCheck[]>;
  /** Routes that change state; mounted behind the bearer token. */
  readonly writeRoutes: readonly Router[];
  /** Routes that decide their own authentication (e.g. /v1/cloudevents). */
  readonly openRoutes?: readonly Router[];
  /** Read-only routes under /v1; behind the token when `protectReads`. */
  readonly readRoutes: readonly Router[];
}

export function createHttpApp(deps: HttpAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await deps.readiness();
    const ready = checks.every((check) => check.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  const metricsAuth = deps.protectMetrics ? [requireToken(deps.apiToken)] : [];
  app.get('/metrics', ...metricsAuth, async (_req, res) => {
    res.set('Content-Type', deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  for (const router of deps.openRoutes ?? []) app.use(router);
  const write = requireToken(deps.apiToken);
  for (const router of deps.writeRoutes) {
    // The token check runs before the body is read, so an unauthenticated client cannot make us buffer it.
    app.use(
      (req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? next() : write(req, res, next)),
      router,
    );
  }
  const readAuth = deps.protectReads ? [requireToken(deps.apiToken)] : [];
  for (const router of deps.readRoutes) app.use(...readAuth, router);

  app.use((_req, _res, next) => next(new ApiError('not_found')));
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500)
      deps.logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
    res.status(apiError.status).json(apiError.toJSON());
  });
  return app;
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  // body-parser errors carry a `type` and a `status`; map the common ones to the catalogue.
  const type = typeof error === 'object' && error !== null ? (error as { type?: unknown }).type : undefined;
  if (type === 'entity.too.large') return new ApiError('payload_too_large');
  if (type === 'entity.parse.failed' || type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new ApiError('invalid_body', `the request body could not be read: ${(error as Error).message}`);
  }
  return new ApiError('internal');
}
