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

/** Rows of one request not yet stored, with where each row ends and its item's index. */
interface RequestRows {
  readonly bytes: RowBytes;
  readonly ends: number[];
  readonly items: number[];
}

/**
 * Rows are stored in parts of about this many bytes as the body streams in, so that a request
 * holds one part at most whatever its size (small events make rows ~10× their JSON).
 */
export const HTTP_INGEST_PART_BYTES = 8 * 1024 * 1024;

/**
 * `POST /v1/predictions` and `POST /v1/outcomes`: the same validation and storage as Kafka ingest,
 * for a JSON array or NDJSON body.
 *
 * The body is streamed, never held: each chunk is split into events as it arrives (body-items.ts),
 * each event parsed, validated and written as its row right away, and the rows are stored in parts
 * of HTTP_INGEST_PART_BYTES while reading waits (so a request holds one part and one event at most,
 * counted against the shared body budget). Most requests fit one part and are stored all or
 * nothing. The answer says what was stored and why each rejected event was rejected; should
 * storing fail after a first part was stored, the error says up to which event, so a client
 * resends only the rest.
 */
export function ingestRoutes(deps: IngestRouteDeps): Router {
  const router = express.Router();
  const handler =
    (kind: EventKind) =>
    async (req: Request, res: Response): Promise<void> => {
      const topic = `http:${kind}s`;
      const ingest = new HttpIngest(req, res, kind, deps);
      try {
        await ingest.run();
      } finally {
        deps.metrics.ingestEvents.inc({ topic, result: 'rejected' }, ingest.rejected.length);
        deps.metrics.ingestEvents.inc({ topic, result: 'accepted' }, ingest.accepted);
      }
      const rejected = ingest.rejected.sort((a, b) => a.index - b.index);
      if (ingest.items === 0) {
        throw new ApiError(
          'invalid_body',
          `send ${kind}s as a JSON array or as NDJSON (one JSON object per line) in the request body`,
        );
      }
      if (ingest.accepted === 0) throw new ApiError('no_valid_events', undefined, { accepted: 0, rejected });
      res.status(200).json({ accepted: ingest.accepted, rejected });
    };
  // A request holds one part of rows and one event at most: that is what it reserves.
  const budget = bodyBudget(deps.budget, deps.maxBodyBytes, HTTP_INGEST_PART_BYTES + deps.maxEventBytes);
  router.post('/v1/predictions', budget, handler('prediction'));
  router.post('/v1/outcomes', budget, handler('outcome'));
  return router;
}

/** One ingest request: reads, validates and stores its body part by part. */
class HttpIngest {
  readonly rejected: LineRejection[] = [];
  /** Events stored. */
  accepted = 0;
  /** Items seen (valid or not). */
  items = 0;
  /** The index of the last item of the parts stored so far, or -1. */
  private storedThrough = -1;
  private readonly rows: RequestRows = { bytes: new RowBytes(64 * 1024), ends: [], items: [] };
  private readonly receivedAt: number;
  private readonly splitter: BodyItemSplitter;

  constructor(
    private readonly req: Request,
    private readonly res: Response,
    private readonly kind: EventKind,
    private readonly deps: IngestRouteDeps,
  ) {
    this.receivedAt = (deps.now ?? Date.now)();
    this.splitter = new BodyItemSplitter(deps.maxEventBytes);
  }

  async run(): Promise<void> {
    let received = 0;
    try {
      for await (const chunk of decodedBody(this.req)) {
        const bytes = chunk as Buffer;
        received += bytes.length;
        if (received > this.deps.maxBodyBytes) throw new ApiError('payload_too_large');
        this.take(this.splitter.push(bytes));
        // Reading waits while a full part is stored: the socket's backpressure bounds the rest.
        if (this.rows.bytes.length >= HTTP_INGEST_PART_BYTES) await this.storePart();
      }
      this.take(this.splitter.end());
      await this.storePart();
    } catch (error) {
      // Stop reading: drain what the client still sends (holding nothing) and close afterwards.
      this.res.setHeader('Connection', 'close');
      this.req.resume();
      throw this.withProgress(
        error instanceof MalformedBody
          ? new ApiError(
              'invalid_body',
              `the body starts with "[" but is not a valid JSON array (${error.message}); send a JSON array or one JSON object per line`,
            )
          : error,
      );
    }
  }

  private take(items: readonly BodyItem[]): void {
    for (const item of items) {
      this.items++;
      const rejection = addItem(
        item,
        this.kind,
        this.receivedAt,
        this.splitter.numbering,
        this.rows,
        this.deps.maxEventBytes,
      );
      if (rejection !== undefined) this.rejected.push({ index: item.index, ...rejection });
    }
    // Rows may outgrow the body (small events make long rows): they count against the budget.
    const reservation = reservationOf(this.res);
    if (reservation === undefined) return;
    const grown = reservation.growTo(this.rows.bytes.length + this.deps.maxEventBytes);
    if (grown === 'busy') throw budgetExhausted(this.res, this.deps.budget);
    if (grown === 'too_large')
      throw new ApiError(
        'payload_too_large',
        `one event's rows exceed what the server holds for all requests (http.maxBodyBytesInFlight ${this.deps.budget.maxBytes} bytes); raise it`,
      );
  }

  /** Stores the rows written so far, isolating any the store refuses. */
  private async storePart(): Promise<void> {
    const rows = this.rows;
    if (rows.ends.length === 0) return;
    const lastItem = rows.items[rows.items.length - 1] as number;
    const refused = await storeRows(this.kind, rows, this.deps);
    for (const { item, error } of refused)
      this.rejected.push({
        index: item,
        code: 'store_rejected',
        path: '$',
        message: `the store refused this event: ${error.publicMessage}`,
      });
    this.accepted += rows.ends.length - refused.length;
    this.storedThrough = lastItem;
    rows.ends.length = 0;
    rows.items.length = 0;
  }

  /** After a first part was stored, an error says which events are stored, so the rest can be resent. */
  private withProgress(error: unknown): unknown {
    if (!(error instanceof ApiError) || this.storedThrough < 0) return error;
    const what = this.splitter.numbering === 'line' ? 'line' : 'element';
    return new ApiError(
      error.code,
      `${error.message} — the events up to ${what} ${this.storedThrough} were stored (${this.accepted}); resend only those after it`,
      { accepted: this.accepted, storedThrough: this.storedThrough, rejected: this.rejected },
    );
  }
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
    deps.logger.error({ err: error }, 'storing HTTP events failed');
    const retriable = error instanceof DriftguardError && error.retriable;
    throw new ApiError(
      retriable ? 'store_unavailable' : 'store_failed',
      `events not stored (${retriable ? 'ClickHouse is unavailable' : 'ClickHouse failed the insert'}); resend them later`,
    );
  }
}
