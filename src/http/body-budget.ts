import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ApiError } from './api-errors.js';

/**
 * Bytes of request bodies (and what routes derive from them) held at once, across all requests:
 * memory stays bounded whatever the number of concurrent requests. A request reserves its
 * `Content-Length` before its body is read (or `maxBodyBytes` when it does not say), and a route
 * may grow its reservation for what it builds (ingest rows); everything is released when the
 * response is done. Beyond the budget a request is answered 429 with Retry-After, before its body
 * is read; a body larger than `maxBodyBytes`, or one that alone can never fit, is answered 413.
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly maxBytes: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Reserves `bytes`, or refuses (returns undefined) when they do not fit now. */
  reserve(bytes: number): Reservation | undefined {
    if (this.used + bytes > this.maxBytes) return undefined;
    this.used += bytes;
    return new Reservation(this, bytes);
  }

  /** @internal */
  take(bytes: number): boolean {
    if (this.used + bytes > this.maxBytes) return false;
    this.used += bytes;
    return true;
  }

  /** @internal */
  give(bytes: number): void {
    this.used -= bytes;
  }
}

export type GrowResult = 'ok' | 'too_large' | 'busy';

/** One request's share of the budget. */
export class Reservation {
  private released = false;

  constructor(
    private readonly budget: BodyBudget,
    private bytes: number,
  ) {}

  get size(): number {
    return this.bytes;
  }

  /**
   * Grows the reservation to `total` bytes: 'too_large' when that alone exceeds the whole budget
   * (413: split the request), 'busy' when other requests hold the rest (429: retry later).
   */
  growTo(total: number): GrowResult {
    if (total <= this.bytes) return 'ok';
    if (total > this.budget.maxBytes) return 'too_large';
    if (this.released || !this.budget.take(total - this.bytes)) return 'busy';
    this.bytes = total;
    return 'ok';
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.give(this.bytes);
    this.bytes = 0;
  }
}

/** Seconds a client is told to wait when the budget is exhausted. */
const RETRY_AFTER_S = 1;

/** The reservation `bodyBudget` made for this request, for routes that grow it. */
export function reservationOf(res: Response): Reservation | undefined {
  return (res.locals as { bodyReservation?: Reservation }).bodyReservation;
}

/** The answer to a request that does not fit now: 429 with Retry-After. */
export function budgetExhausted(res: Response, budget: BodyBudget): ApiError {
  res.setHeader('Retry-After', String(RETRY_AFTER_S));
  return new ApiError(
    'too_busy',
    `the server holds ${budget.maxBytes} bytes of request bodies at most (http.maxBodyBytesInFlight) and other requests use them now; retry after ${RETRY_AFTER_S} s`,
  );
}

/**
 * Middleware: reserves each request body against `budget` before it is read, and releases it
 * when the exchange ends. Requests without a body (GET, HEAD, Content-Length 0) pass freely.
 * `holdsAtMostBytes`: for routes that stream the body, what a request can hold at once whatever
 * its length (it reserves the smaller of the two, and grows the reservation as it needs).
 */
export function bodyBudget(
  budget: BodyBudget,
  maxBodyBytes: number,
  holdsAtMostBytes = Infinity,
): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const declared = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (declared === undefined && !chunked) return next();
    const length = declared === undefined ? maxBodyBytes : Number(declared);
    if (!Number.isSafeInteger(length) || length < 0)
      return next(new ApiError('invalid_body', `Content-Length ${JSON.stringify(declared)} is not a length`));
    if (length === 0) return next();
    if (length > maxBodyBytes) {
      discard(req, res);
      return next(new ApiError('payload_too_large'));
    }
    const reservation = budget.reserve(Math.min(length, holdsAtMostBytes));
    if (reservation === undefined) {
      discard(req, res);
      return next(budgetExhausted(res, budget));
    }
    (res.locals as { bodyReservation?: Reservation }).bodyReservation = reservation;
    res.once('close', () => reservation.release());
    next();
  };
}

/**
 * Answers without reading the body: it is drained (read and dropped, holding no memory) and the
 * connection closed after the answer, so a client still sending sees the answer rather than a reset.
 */
export function discard(req: Request, res: Response): void {
  res.setHeader('Connection', 'close');
  req.resume();
}
