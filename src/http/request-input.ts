import type { Request } from 'express';
import type { z } from 'zod';
import { ApiError } from './api-errors.js';

/**
 * Validates a query or body with `schema`; a failure becomes `code` (400) with every issue named
 * by its path, so the client learns which field to fix.
 */
export function parseInput<T>(
  schema: z.ZodType<T>,
  value: unknown,
  what: string,
  code: 'invalid_query' | 'invalid_body' = 'invalid_query',
): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ApiError(
      code,
      `invalid ${what}: ${result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  return result.data;
}

/** The `:model` path parameter, checked against the router's own name schema. */
export function modelFromPath(req: Request, names: z.ZodType<string>): string {
  const value = req.params['model'];
  const result = names.safeParse(value);
  if (!result.success) {
    // The name is echoed (shortened) so the client sees what arrived after URL decoding.
    const shown = JSON.stringify(typeof value === 'string' ? value.slice(0, 140) : value);
    const rule = result.error.issues.map((i) => i.message).join('; ');
    throw new ApiError('invalid_query', `invalid model name ${shown} in the path: ${rule}`);
  }
  return result.data;
}
