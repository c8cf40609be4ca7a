import { Router } from 'express';

/**
 * The OpenAPI 3 description of the HTTP API, served at `/openapi.json`. A test compares it with
 * the routes the app really registers, both ways, so the document cannot drift from the code.
 */
type Schema = Record<string, unknown>;

interface Operation {
  readonly method: 'get' | 'post';
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  /** Needs the bearer token (state change). Reads are token-protected only when configured. */
  readonly write?: boolean;
  readonly query?: ReadonlyArray<{ name: string; schema: Schema; description: string }>;
  readonly body?: { contentType: string; schema: Schema; description: string };
  readonly ok?: { status: number; description: string; schema?: Schema };
}

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const page = [
  {
    name: 'limit',
    schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    description: 'page size',
  },
  { name: 'offset', schema: { type: 'integer', minimum: 0, default: 0 }, description: 'rows to skip' },
];
const eventsBody = (what: string): Operation['body'] => ({
  contentType: 'application/x-ndjson',
  schema: { type: 'string' },
  description: `${what} as NDJSON (one JSON object per line) or a JSON array (application/json); see docs/schemas`,
});

export const OPERATIONS: readonly Operation[] = [
  { method: 'get', path: '/healthz', tag: 'operations', summary: 'Process is alive' },
  {
    method: 'get',
    path: '/readyz',
    tag: 'operations',
    summary: 'Kafka and ClickHouse reachable, ingest not stuck (503 with reasons otherwise)',
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'operations',
    summary: 'Prometheus metrics',
    ok: { status: 200, description: 'text exposition format' },
  },
  { method: 'get', path: '/openapi.json', tag: 'operations', summary: 'This document' },
  {
    method: 'post',
    path: '/v1/predictions',
    tag: 'ingest',
    write: true,
    summary: 'Ingest prediction events over HTTP',
    body: eventsBody('prediction events'),
    ok: {
      status: 200,
      description: 'accepted count and a reason per rejected line',
      schema: ref('IngestResult'),
    },
  },
  {
    method: 'post',
    path: '/v1/outcomes',
    tag: 'ingest',
    write: true,
    summary: 'Ingest outcome events over HTTP',
    body: eventsBody('outcome events'),
    ok: {
      status: 200,
      description: 'accepted count and a reason per rejected line',
      schema: ref('IngestResult'),
    },
  },
  {
    method: 'post',
    path: '/v1/cloudevents',
    tag: 'ingest',
    write: true,
    summary:
      'KServe InferenceLogger CloudEvents (binary ce-* headers or structured); open without a token when http.openCloudEvents',
    body: {
      contentType: 'application/json',
      schema: { type: 'object' },
      description: 'the event payload (binary mode) or the whole event (application/cloudevents+json)',
    },
    ok: { status: 200, description: 'stored (202 when held for its request/response partner)' },
  },
  {
    method: 'get',
    path: '/v1/models',
    tag: 'monitor',
    summary: 'Configured and seen models with their latest health',
  },
  {
    method: 'get',
    path: '/v1/models/{model}/health',
    tag: 'monitor',
    summary:
      "A model's latest health (ok, warning, critical) with reasons and, when warning or critical, the top 5 features that explain it (attribution)",
  },
  {
    method: 'get',
    path: '/v1/models/{model}/drift',
    tag: 'monitor',
    summary: 'Drift results history (per feature and detector; the whole model, or one segment)',
    query: [
      { name: 'from', schema: { type: 'integer' }, description: 'epoch ms; default 24 h before `to`' },
      { name: 'to', schema: { type: 'integer' }, description: 'epoch ms; default now' },
      { name: 'feature', schema: { type: 'string' }, description: 'only this feature' },
      { name: 'detector', schema: { type: 'string' }, description: 'only this detector (e.g. wasserstein)' },
      {
        name: 'segment',
        schema: { type: 'string', example: 'country=DE' },
        description:
          "one segment's rows (`<feature or tag>=<value>`, `__other__` for the rest); default: the whole model",
      },
      ...page,
    ],
  },
  {
    method: 'get',
    path: '/v1/models/{model}/performance',
    tag: 'monitor',
    summary:
      'Estimated performance (CBPE, DLE) per evaluation window with its band, beside the realized value and label coverage; and which estimators are fitted',
    query: [
      { name: 'from', schema: { type: 'integer' }, description: 'epoch ms; default 24 h before `to`' },
      { name: 'to', schema: { type: 'integer' }, description: 'epoch ms; default now' },
      {
        name: 'metric',
        schema: { type: 'string', enum: ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'mae', 'rmse'] },
        description: 'only this metric',
      },
      ...page,
    ],
    ok: { status: 200, description: 'results newest first', schema: ref('Performance') },
  },
  {
    method: 'post',
    path: '/v1/models/{model}/reference',
    tag: 'monitor',
    write: true,
    summary: "Set a model's reference from an uploaded sample",
    body: {
      contentType: 'text/plain',
      schema: { type: 'string' },
      description: 'JSON lines, a JSON array or CSV with a header; one row per event (features)',
    },
    ok: { status: 201, description: 'reference profile stored' },
  },
  {
    method: 'get',
    path: '/v1/alerts',
    tag: 'alerts',
    summary: 'Recent alert notifications with their delivery status per sink',
    query: [
      { name: 'model', schema: { type: 'string' }, description: 'only this model' },
      {
        name: 'status',
        schema: { type: 'string', enum: ['firing', 'resolved'] },
        description: 'firing or resolved',
      },
      { name: 'since', schema: { type: 'integer' }, description: 'epoch ms' },
      ...page,
    ],
  },
  {
    method: 'get',
    path: '/v1/studies',
    tag: 'retune',
    summary: 'Retune studies, newest first',
    query: [{ name: 'model', schema: { type: 'string' }, description: 'only this model' }, ...page],
  },
  { method: 'get', path: '/v1/studies/{id}', tag: 'retune', summary: 'A study with its trials' },
  {
    method: 'post',
    path: '/v1/studies/{id}/cancel',
    tag: 'retune',
    write: true,
    summary: 'Cancel a running study (running trials are stopped)',
  },
  {
    method: 'get',
    path: '/v1/models/{model}/versions',
    tag: 'registry',
    summary: 'Registered model versions',
  },
  {
    method: 'get',
    path: '/v1/models/{model}/aliases',
    tag: 'registry',
    summary: 'Current aliases (champion, challenger) and their full history',
  },
  {
    method: 'get',
    path: '/v1/models/{model}/decisions',
    tag: 'registry',
    summary: 'Promotion decisions with their evidence',
  },
  {
    method: 'post',
    path: '/v1/models/{model}/retune',
    tag: 'retune',
    write: true,
    summary: 'Start a retune study now',
    ok: { status: 202, description: 'the study id' },
  },
  {
    method: 'post',
    path: '/v1/models/{model}/promote',
    tag: 'registry',
    write: true,
    summary: 'Move the champion alias to a version (dryRun tells what would happen)',
    body: {
      contentType: 'application/json',
      schema: {
        type: 'object',
        required: ['version'],
        properties: { version: { type: 'string' }, reason: { type: 'string' }, dryRun: { type: 'boolean' } },
      },
      description: 'the version to promote',
    },
  },
  {
    method: 'post',
    path: '/v1/models/{model}/rollback',
    tag: 'registry',
    write: true,
    summary: 'Move the champion alias back to the previous champion',
    body: {
      contentType: 'application/json',
      schema: {
        type: 'object',
        properties: { to: { type: 'string' }, reason: { type: 'string' }, dryRun: { type: 'boolean' } },
      },
      description: 'optional target version',
    },
  },
];

export function openApiDocument(version: string): Schema {
  const paths: Record<string, Record<string, Schema>> = {};
  for (const op of OPERATIONS) {
    const params: Schema[] = [];
    for (const match of op.path.matchAll(/\{([^}]+)\}/g)) {
      params.push({ name: match[1], in: 'path', required: true, schema: { type: 'string' } });
    }
    for (const q of op.query ?? [])
      params.push({
        name: q.name,
        in: 'query',
        required: false,
        schema: q.schema,
        description: q.description,
      });
    const ok = op.ok ?? { status: 200, description: 'OK' };
    paths[op.path] ??= {};
    (paths[op.path] as Record<string, Schema>)[op.method] = {
      summary: op.summary,
      tags: [op.tag],
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(op.body
        ? {
            requestBody: {
              required: true,
              description: op.body.description,
              content: { [op.body.contentType]: { schema: op.body.schema } },
            },
          }
        : {}),
      ...(op.write ? { security: [{ bearer: [] }] } : {}),
      responses: {
        [String(ok.status)]: {
          description: ok.description,
          ...(ok.schema ? { content: { 'application/json': { schema: ok.schema } } } : {}),
        },
        default: {
          description: 'an error from the catalogue',
          content: { 'application/json': { schema: ref('Error') } },
        },
      },
    };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'driftguard',
      version,
      description: 'Drift monitoring, alerting and retuning for ML models in production.',
    },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'DRIFTGUARD_API_TOKEN' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
            },
          },
        },
        Performance: {
          type: 'object',
          properties: {
            model: { type: 'string' },
            fromMs: { type: 'integer' },
            toMs: { type: 'integer' },
            estimators: {
              type: 'object',
              nullable: true,
              description:
                'the newest fit on the reference: rows, labelledRows, waitingForLabels, and per estimator "fitted" or the reason it is not',
            },
            results: {
              type: 'array',
              items: {
                type: 'object',
                required: [
                  'metric',
                  'estimated',
                  'estimatedLower',
                  'estimatedUpper',
                  'realized',
                  'labelCoverage',
                ],
                properties: {
                  evaluatedAtMs: { type: 'integer' },
                  windowStartMs: { type: 'integer' },
                  windowEndMs: { type: 'integer' },
                  metric: { type: 'string' },
                  method: { type: 'string', enum: ['cbpe', 'dle'] },
                  estimated: { type: 'number', nullable: true },
                  estimatedLower: { type: 'number', nullable: true },
                  estimatedUpper: { type: 'number', nullable: true },
                  realized: {
                    type: 'number',
                    nullable: true,
                    description: "on the window's labelled rows; null while none arrived",
                  },
                  labelCoverage: { type: 'number' },
                  labelled: { type: 'integer' },
                  events: { type: 'integer' },
                  referenceValue: { type: 'number', nullable: true },
                  referenceLower: { type: 'number', nullable: true },
                  referenceUpper: { type: 'number', nullable: true },
                  threshold: { type: 'number', nullable: true },
                  breaching: { type: 'boolean' },
                },
              },
            },
            limit: { type: 'integer' },
            offset: { type: 'integer' },
            nextOffset: { type: 'integer', nullable: true },
          },
        },
        IngestResult: {
          type: 'object',
          properties: {
            accepted: { type: 'integer' },
            rejected: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  index: { type: 'integer' },
                  code: { type: 'string' },
                  path: { type: 'string' },
                  message: { type: 'string' },
                },
              },
            },
          },
        },
      },
    },
  };
}

export function openApiRoute(version: string): Router {
  const router = Router();
  const document = openApiDocument(version);
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  return router;
}
