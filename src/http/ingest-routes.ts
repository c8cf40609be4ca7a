import { createGunzip, createInflate } from 'node:zlib';
import type { Readable } from 'node:stream';
import express, { type Request, type Response, type Router } from 'express';
import { DriftguardError } from '../../kernel/errors.js';
import type { Logger } from '../../kernel/logger.js';
import { retry } from '../../kernel/retry.js';
import type { EventKind, OutcomeEvent, PredictionEvent, Rejection } from '../events/types.js';
import { parseJson, validateOutcome, validatePrediction } from '../events/validate.js';
import { insertIsolatingRefused } from '../ingest/refused-rows.js';
import type { Metrics } from '../metrics.js';
import { outcomeRow, predictionRow } from '../store/event-rows.js';
import type { EventStore } from '../store/event-store.js';
import { RowBytes } from '../store/row-bytes.js';
import { ApiError } from './api-errors.js';
import { bodyBudget, budgetExhausted, reservationOf, type BodyBudget } from './body-budget.js';
import { BodyItemSplitter, MalformedBody, type BodyItem } from './body-items.js';

export interface IngestRouteDeps {
  readonly store: EventStore;
  readonly metrics: Metrics;
  readonly maxBodyBytes: number;
  /** Larger events are rejected as oversized, as on Kafka. */
  readonly maxEventBytes: number;
  /** Shared with every route: bounds what all requests hold together (see body-budget.ts). */
  readonly budget: BodyBudget;
  readonly logger: Logger;
  readonly now?: () => number;
}

export interface LineRejection {
  /** 0-based position in the JSON array, or 1-based line number for NDJSON. */
  readonly index: number;
  readonly code: string;
  readonly path: string;
  readonly message: string;
}

/** Rows of one request, serialised as they are validated, with where each row ends and its item. */
interface RequestRows {
  readonly bytes: RowBytes;
  readonly ends: number[];
  readonly items: number[];
}

/**
 * `POST /v1/predictions` and `POST /v1/outcomes`: the same validation and storage as Kafka ingest,
 * for a JSON array or NDJSON body.
 *
 * The body is streamed, never held: each chunk is split into events as it arrives (body-items.ts),
 * each event parsed, validated and written as its row right away, so a request holds its rows
 * (outside the heap, counted against the shared body budget) and at most one event's bytes. A
 * request whose rows would exceed the budget is answered 429 (or 413 when it could never fit).
 * Nothing is stored before the whole body was read: the answer says what was stored and why each
 * rejected event was rejected.
 */
export function ingestRoutes(deps: IngestRouteDeps): Router {
  const router = express.Router();
  const handler =
    (kind: EventKind) =>
    async (req: Request, res: Response): Promise<void> => {
      const topic = `http:${kind}s`;
      const { rows, rejected, count } = await readEvents(req, res, kind, deps);
      rejected.sort((a, b) => a.index - b.index);
      if (count === 0 && rejected.length === 0) {
        throw new ApiError(
          'invalid_body',
          `send ${kind}s as a JSON array or as NDJSON (one JSON object per line) in the request body`,
        );
      }
      if (rows.ends.length === 0) {
        deps.metrics.ingestEvents.inc({ topic, result: 'rejected' }, rejected.length);
        throw new ApiError('no_valid_events', undefined, { accepted: 0, rejected });
      }
      const refused = await storeRows(kind, rows, deps);
      for (const { item, error } of refused)
        rejected.push({
          index: item,
          code: 'store_rejected',
          path: '$',
          message: `the store refused this event: ${error.publicMessage}`,
        });
      rejected.sort((a, b) => a.index - b.index);
      const accepted = rows.ends.length - refused.length;
      deps.metrics.ingestEvents.inc({ topic, result: 'rejected' }, rejected.length);
      if (accepted === 0) throw new ApiError('no_valid_events', undefined, { accepted: 0, rejected });
      deps.metrics.ingestEvents.inc({ topic, result: 'accepted' }, accepted);
      res.status(200).json({ accepted, rejected });
    };
  const budget = bodyBudget(deps.budget, deps.maxBodyBytes);
  router.post('/v1/predictions', budget, handler('prediction'));
  router.post('/v1/outcomes', budget, handler('outcome'));
  return router;
}

/** Reads the body chunk by chunk into rows and rejections. */
async function readEvents(
  req: Request,
  res: Response,
  kind: EventKind,
  deps: IngestRouteDeps,
): Promise<{ rows: RequestRows; rejected: LineRejection[]; count: number }> {
  const receivedAt = (deps.now ?? Date.now)();
  const splitter = new BodyItemSplitter(deps.maxEventBytes);
  const rows: RequestRows = { bytes: new RowBytes(64 * 1024), ends: [], items: [] };
  const rejected: LineRejection[] = [];
  const reservation = reservationOf(res);
  let count = 0;
  let received = 0;
  const take = (items: readonly BodyItem[]): void => {
    for (const item of items) {
      count++;
      const rejection = addItem(item, kind, receivedAt, splitter.numbering, rows, deps.maxEventBytes);
      if (rejection !== undefined) rejected.push({ index: item.index, ...rejection });
    }
    // Rows may outgrow the body (small events make long rows): they count against the budget too.
    if (reservation !== undefined) {
      const grown = reservation.growTo(rows.bytes.length + deps.maxEventBytes);
      if (grown === 'busy') throw budgetExhausted(res, deps.budget);
      if (grown === 'too_large')
        throw new ApiError(
          'payload_too_large',
          `the rows of this request's events exceed what the server holds for all requests (http.maxBodyBytesInFlight ${deps.budget.maxBytes} bytes); split it`,
        );
    }
  };
  try {
    for await (const chunk of decodedBody(req)) {
      const bytes = chunk as Buffer;
      received += bytes.length;
      if (received > deps.maxBodyBytes) throw new ApiError('payload_too_large');
      take(splitter.push(bytes));
    }
    take(splitter.end());
  } catch (error) {
    // Stop reading: drain what the client still sends (holding nothing) and close afterwards.
    res.setHeader('Connection', 'close');
    req.resume();
    if (error instanceof MalformedBody)
      throw new ApiError(
        'invalid_body',
        `the body starts with "[" but is not a valid JSON array (${error.message}); send a JSON array or one JSON object per line`,
      );
    throw error;
  }
  return { rows, rejected, count };
}

/** The request body as a stream of bytes, inflated when it is gzip or deflate. */
function decodedBody(req: Request): Readable {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  switch (encoding) {
    case 'identity':
    case '':
      return req;
    case 'gzip':
    case 'x-gzip':
      return req.pipe(createGunzip());
    case 'deflate':
      return req.pipe(createInflate());
    default:
      throw new ApiError('unsupported_encoding');
  }
}

/** Validates one item and writes its row; returns its rejection, if any. */
function addItem(
  item: BodyItem,
  kind: EventKind,
  receivedAt: number,
  numbering: 'index' | 'line',
  rows: RequestRows,
  maxEventBytes: number,
): Omit<LineRejection, 'index'> | undefined {
  if (item.rejection !== undefined) return item.rejection;
  const parsed = parseJson(item.bytes as Buffer, maxEventBytes);
  if (!parsed.ok) return numbered(parsed.rejection, item.index, numbering);
  const checked =
    kind === 'prediction'
      ? validatePrediction(parsed.value, receivedAt)
      : validateOutcome(parsed.value, receivedAt);
  if (!checked.ok) return checked.rejection;
  const row =
    kind === 'prediction'
      ? predictionRow(checked.value as PredictionEvent, 'http', receivedAt)
      : outcomeRow(checked.value as OutcomeEvent, 'http', receivedAt);
  rows.bytes.text(JSON.stringify(row));
  rows.bytes.byte(0x0a);
  rows.ends.push(rows.bytes.length);
  rows.items.push(item.index);
  return undefined;
}

/** NDJSON parse errors name their line, as users count them. */
function numbered(rejection: Rejection, index: number, numbering: 'index' | 'line'): Rejection {
  if (rejection.code !== 'not_json' || numbering !== 'line') return rejection;
  return { ...rejection, message: `line ${index} is ${rejection.message}` };
}

/**
 * Stores the rows (a few tries for transient failures, each counted in
 * driftguard_store_retries_total); rows the store refuses are isolated and returned by item.
 * Failures are answered without the database's text, which goes to the log.
 */
async function storeRows(
  kind: EventKind,
  rows: RequestRows,
  deps: IngestRouteDeps,
): Promise<Array<{ item: number; error: DriftguardError }>> {
  const all = rows.bytes.take();
  const located: Array<{ item: number; bytes: Buffer }> = [];
  let start = 0;
  for (let i = 0; i < rows.ends.length; i++) {
    const end = rows.ends[i] as number;
    located.push({ item: rows.items[i] as number, bytes: all.subarray(start, end) });
    start = end;
  }
  const insert = (part: ReadonlyArray<{ bytes: Buffer }>): Promise<void> =>
    retry(
      () => {
        const pieces = part.length === located.length ? [all] : part.map((row) => row.bytes);
        return deps.store.insert(
          kind === 'prediction'
            ? { predictions: pieces, outcomes: [] }
            : { predictions: [], outcomes: pieces },
        );
      },
      {
        maxAttempts: 3,
        initialDelayMs: 100,
        onRetry: (error, attempt) => {
          deps.metrics.storeRetries.inc();
          deps.logger.warn({ err: error, attempt }, 'storing HTTP events failed; retrying');
        },
      },
    );
  try {
    const refused = await insertIsolatingRefused(located, insert);
    if (refused.length > 0)
      deps.logger.warn(
        { refused: refused.length, reason: refused[0]?.error.message },
        'the store refused events of an HTTP request; the rest is stored',
      );
    return refused.map(({ item, error }) => ({ item: item.item, error }));
  } catch (error) {
    deps.logger.error({ err: error }, 'storing HTTP events failed; nothing of the request was accepted');
    const retriable = error instanceof DriftguardError && error.retriable;
    throw new ApiError(
      retriable ? 'store_unavailable' : 'store_failed',
      `events not stored (${retriable ? 'ClickHouse is unavailable' : 'ClickHouse failed the insert'}); nothing was accepted, resend later`,
    );
  }
}
