import { EventEmitter } from 'node:events';
import type { NextFunction, Request, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/http/api-errors.js';
import { BodyBudget, bodyBudget, reservationOf } from '../../../src/http/body-budget.js';

/** A request with `headers` and a response that records headers and its `close`. */
function exchange(headers: Record<string, string>) {
  const recorded: Record<string, string> = {};
  const res = Object.assign(new EventEmitter(), {
    locals: {},
    headers: recorded,
    setHeader(name: string, value: string) {
      recorded[name.toLowerCase()] = value;
    },
  });
  const req = { method: 'POST', headers, resume: () => undefined } as unknown as Request;
  let passed: unknown = 'not called';
  const next: NextFunction = (error?: unknown) => {
    passed = error;
  };
  return { req, res: res as unknown as Response & typeof res, next, passed: () => passed };
}

describe('the request body budget', () => {
  it('reserves Content-Length before the body is read, answers 429 with Retry-After beyond, and frees it at close', () => {
    const budget = new BodyBudget(1_000);
    const middleware = bodyBudget(budget, 800);
    const first = exchange({ 'content-length': '600' });
    middleware(first.req, first.res, first.next);
    expect(first.passed()).toBeUndefined();
    expect(budget.inUse).toBe(600);

    const second = exchange({ 'content-length': '600' });
    middleware(second.req, second.res, second.next);
    expect(second.passed()).toBeInstanceOf(ApiError);
    expect((second.passed() as ApiError).status).toBe(429);
    expect(second.res.headers['retry-after']).toBe('1');

    first.res.emit('close');
    expect(budget.inUse).toBe(0);
    const third = exchange({ 'content-length': '600' });
    middleware(third.req, third.res, third.next);
    expect(third.passed()).toBeUndefined();
  });

  it('answers 413 for a body over the limit, and reserves the limit for a chunked body', () => {
    const budget = new BodyBudget(10_000);
    const middleware = bodyBudget(budget, 800);
    const big = exchange({ 'content-length': '801' });
    middleware(big.req, big.res, big.next);
    expect((big.passed() as ApiError).status).toBe(413);
    const chunked = exchange({ 'transfer-encoding': 'chunked' });
    middleware(chunked.req, chunked.res, chunked.next);
    expect(budget.inUse).toBe(800);
  });

  it('lets a streaming route reserve what it holds at most, and grow it, never past the budget', () => {
    const budget = new BodyBudget(1_000);
    const middleware = bodyBudget(budget, 10_000, 300);
    const a = exchange({ 'content-length': '5000' });
    middleware(a.req, a.res, a.next);
    expect(budget.inUse).toBe(300);
    const reservation = reservationOf(a.res);
    expect(reservation?.growTo(900)).toBe('ok');
    expect(reservation?.growTo(1_001)).toBe('too_large');
    const b = exchange({ 'content-length': '5000' });
    middleware(b.req, b.res, b.next);
    expect(budget.inUse).toBe(900);
    expect((b.passed() as ApiError).status).toBe(429);
    a.res.emit('close');
    expect(budget.inUse).toBe(0);
  });
});
