import express, { type Router } from 'express';
import type { EventKind, OutcomeEvent, PredictionEvent } from '../events/types.js';
import { validateOutcome, validatePrediction } from '../events/validate.js';
import type { Metrics } from '../metrics.js';
import { outcomeRow, predictionRow } from '../store/event-rows.js';
import type { EventStore } from '../store/event-store.js';
import { retry } from '../../kernel/retry.js';
import { ApiError } from './api-errors.js';

export interface IngestRouteDeps {
  readonly store: EventStore;
  readonly metrics: Metrics;
  readonly maxBodyBytes: number;
  readonly now?: () => number;
}

export interface LineRejection {
  /** 0-based position in the JSON array, or 1-based line number for NDJSON. */
  readonly index: number;
  readonly code: string;
  readonly path: string;
  readonly message: string;
}

/**
 * Splits a body into items: a JSON array, or newline-delimited JSON (one event per line; blank
 * lines ignored). A single JSON object is one item.
 */
export function splitBody(text: string): {
  items: unknown[];
  rejected: LineRejection[];
  numbering: 'index' | 'line';
} {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      throw new ApiError(
        'invalid_body',
        `body starts with "[" but is not a valid JSON array (${(error as Error).message}); send a JSON array or one JSON object per line`,
      );
    }
    return { items: parsed as unknown[], rejected: [], numbering: 'index' };
  }
  const items: unknown[] = [];
  const rejected: LineRejection[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line.length === 0) continue;
    try {
      items[i] = JSON.parse(line);
    } catch (error) {
      rejected.push({
        index: i + 1,
        code: 'not_json',
        path: '$',
        message: `line ${i + 1} is not valid JSON (${(error as Error).message})`,
      });
    }
  }
  return { items, rejected, numbering: 'line' };
}

/** `POST /v1/predictions` and `POST /v1/outcomes`: the same validation and storage as Kafka ingest. */
export function ingestRoutes(deps: IngestRouteDeps): Router {
  const router = express.Router();
  const now = deps.now ?? Date.now;
  const body = express.text({ type: () => true, limit: deps.maxBodyBytes });
  const handler =
    (kind: EventKind) =>
    async (req: express.Request, res: express.Response): Promise<void> => {
      if (typeof req.body !== 'string' || req.body.length === 0) {
        throw new ApiError(
          'invalid_body',
          `send ${kind}s as a JSON array or as NDJSON (one JSON object per line) in the request body`,
        );
      }
      const { items, rejected, numbering } = splitBody(req.body);
      const receivedAt = now();
      const lines: string[] = [];
      const topic = `http:${kind}s`;
      items.forEach((item, position) => {
        if (item === undefined) return; // NDJSON blank or unparseable line (already rejected)
        const index = numbering === 'line' ? position + 1 : position;
        const checked =
          kind === 'prediction' ? validatePrediction(item, receivedAt) : validateOutcome(item, receivedAt);
        if (!checked.ok) {
          rejected.push({ index, ...checked.rejection });
          return;
        }
        const row =
          kind === 'prediction'
            ? predictionRow(checked.value as PredictionEvent, 'http', receivedAt)
            : outcomeRow(checked.value as OutcomeEvent, 'http', receivedAt);
        lines.push(`${JSON.stringify(row)}\n`);
      });
      rejected.sort((a, b) => a.index - b.index);
      deps.metrics.ingestEvents.inc({ topic, result: 'rejected' }, rejected.length);
      if (lines.length === 0) {
        throw new ApiError('no_valid_events', undefined, { accepted: 0, rejected });
      }
      try {
        await retry(
          () =>
            deps.store.insert(
              kind === 'prediction'
                ? { predictions: lines, outcomes: [] }
                : { predictions: [], outcomes: lines },
            ),
          {
            maxAttempts: 3,
            initialDelayMs: 100,
          },
        );
      } catch (error) {
        throw new ApiError(
          'store_unavailable',
          `events not stored: ${(error as Error).message}; nothing was accepted, resend later`,
        );
      }
      deps.metrics.ingestEvents.inc({ topic, result: 'accepted' }, lines.length);
      res.status(200).json({ accepted: lines.length, rejected });
    };
  router.post('/v1/predictions', body, handler('prediction'));
  router.post('/v1/outcomes', body, handler('outcome'));
  return router;
}
