import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { ApiError } from './api-errors.js';

/**
 * Bearer-token check in constant time. Both sides are hashed first so that the comparison
 * takes the same time whatever the presented token's length.
 */
export function tokenMatches(expected: string, presented: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(presented).digest();
  return timingSafeEqual(a, b);
}

export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** Middleware: requires the configured token; refuses outright when none is configured. */
export function requireToken(apiToken: string | undefined) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (apiToken === undefined) return next(new ApiError('token_not_configured'));
    const presented = bearerToken(req);
    if (presented === undefined || !tokenMatches(apiToken, presented))
      return next(new ApiError('unauthorized'));
    next();
  };
}
