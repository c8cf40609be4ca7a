import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertFingerprint } from '../../../src/alerts/fingerprint.js';
import {
  applyEvaluations,
  emptyPolicyState,
  firingRules,
  parsePolicyState,
  type PolicyOptions,
  type PolicyState,
} from '../../../src/alerts/policy.js';
import type { Notification, RuleEvaluation } from '../../../src/alerts/types.js';
import { T0, WINDOW_MS, evaluation, policyOptions } from './fixtures.js';

/** Feeds windows one cycle at a time and collects every notification. */
function run(
  cycles: RuleEvaluation[][],
  options: PolicyOptions = policyOptions,
  start: PolicyState = emptyPolicyState(),
): { state: PolicyState; perCycle: Notification[][] } {
  let state = start;
  const perCycle: Notification[][] = [];
  for (const cycle of cycles) {
    const now = Math.max(T0, ...cycle.map((e) => e.evaluatedAtMs));
    const result = applyEvaluations(state, cycle, now, options);
    state = result.state;
    perCycle.push(result.notifications);
  }
  return { state, perCycle };
}

const breaching = (flags: boolean[], overrides: Partial<RuleEvaluation> = {}): RuleEvaluation[][] =>
  flags.map((b, n) => [evaluation(n, { breaching: b, ...overrides })]);

describe('alert policy', () => {
  it('fires a warning only after forWindows consecutive breaching windows', () => {
    const { perCycle } = run(breaching([true, false, true, true]));
    expect(perCycle.map((n) => n.length)).toEqual([0, 0, 0, 1]);
    const [notification] = perCycle[3] ?? [];
    expect(notification?.status).toBe('firing');
    expect(notification?.alerts[0]).toMatchObject({
      rule: 'drift:amount:ks',
      status: 'firing',
      severity: 'warning',
      // The streak started with window 2.
      startsAtMs: T0 + 2 * WINDOW_MS,
      value: 0.31,
      threshold: 0.2,
      labels: {
        alertname: 'DriftguardDrift',
        model: 'credit',
        rule: 'drift:amount:ks',
        category: 'drift',
        severity: 'warning',
      },
    });
    expect(notification?.alerts[0]?.endsAtMs).toBeUndefined();
  });

  it('fires a critical on its first breaching window by default', () => {
    const { perCycle } = run(breaching([true], { severity: 'critical' }));
    expect(perCycle[0]?.[0]?.alerts[0]?.severity).toBe('critical');
  });

  it('does not notify again while an alert keeps firing', () => {
    const { perCycle } = run(breaching([true, true, true, true, true]));
    expect(perCycle.map((n) => n.length)).toEqual([0, 1, 0, 0, 0]);
  });

  it('resolves only after resolveAfterWindows consecutive clear windows (hysteresis)', () => {
    const { perCycle, state } = run(breaching([true, true, false, true, false, false]));
    expect(perCycle.map((n) => n.map((x) => x.status))).toEqual([[], ['firing'], [], [], [], ['resolved']]);
    const resolved = perCycle[5]?.[0]?.alerts[0];
    expect(resolved).toMatchObject({
      status: 'resolved',
      startsAtMs: T0,
      endsAtMs: evaluation(5).evaluatedAtMs,
    });
    expect(firingRules(state)).toEqual([]);
  });

  it('holds a re-fire back during the cooldown and fires at its end if still breaching', () => {
    // fire at w1, resolve at w3, breaching again from w4; cooldown is 10 windows after w3's evaluation.
    const flags = [true, true, false, false, ...Array<boolean>(12).fill(true)];
    const { perCycle } = run(breaching(flags));
    const statuses = perCycle.map((n) => n[0]?.status ?? '-');
    expect(statuses.slice(0, 4)).toEqual(['-', 'firing', '-', 'resolved']);
    const resolvedAt = evaluation(3).evaluatedAtMs;
    const refireIndex = statuses.indexOf('firing', 4);
    expect(refireIndex).toBeGreaterThan(4);
    expect(evaluation(refireIndex).evaluatedAtMs).toBeGreaterThanOrEqual(
      resolvedAt + policyOptions.cooldownMs,
    );
    expect(evaluation(refireIndex - 1).evaluatedAtMs).toBeLessThan(resolvedAt + policyOptions.cooldownMs);
    // The re-fired alert starts where its breaching streak started.
    expect(perCycle[refireIndex]?.[0]?.alerts[0]?.startsAtMs).toBe(T0 + 4 * WINDOW_MS);
  });

  it('with no cooldown re-fires as soon as forWindows is met again', () => {
    const { perCycle } = run(breaching([true, true, false, false, true, true]), {
      ...policyOptions,
      cooldownMs: 0,
    });
    expect(perCycle.map((n) => n[0]?.status ?? '-')).toEqual(['-', 'firing', '-', 'resolved', '-', 'firing']);
  });

  it('groups all changed alerts of one model into one notification per cycle', () => {
    const cycle = (n: number): RuleEvaluation[] => [
      evaluation(n, { rule: 'drift:amount:ks' }),
      evaluation(n, { rule: 'performance:accuracy', severity: 'critical', value: 0.7, threshold: 0.8 }),
      evaluation(n, { model: 'fraud', rule: 'quality:missing_rate:age' }),
      evaluation(n, { model: 'fraud', rule: 'model:drift_share', breaching: false }),
    ];
    const { perCycle } = run([cycle(0), cycle(1)]);
    expect(perCycle[0]?.map((n) => [n.model, n.alerts.map((a) => a.rule)])).toEqual([
      ['credit', ['performance:accuracy']],
    ]);
    expect(perCycle[1]?.map((n) => [n.model, n.groupKey, n.alerts.map((a) => a.rule)])).toEqual([
      ['credit', '{}:{model="credit"}', ['drift:amount:ks']],
      ['fraud', '{}:{model="fraud"}', ['quality:missing_rate:age']],
    ]);
  });

  it('a group with any firing alert is firing; a group of resolves is resolved', () => {
    const a = (n: number, b: boolean): RuleEvaluation =>
      evaluation(n, { rule: 'a', breaching: b, severity: 'critical' });
    const b = (n: number, br: boolean): RuleEvaluation =>
      evaluation(n, { rule: 'b', breaching: br, severity: 'critical' });
    const { perCycle } = run([
      [a(0, true)],
      [a(1, false), b(1, false)],
      [a(2, false), b(2, true)],
      [b(3, false)],
      [b(4, false)],
    ]);
    expect(perCycle[2]?.[0]?.status).toBe('firing');
    expect(perCycle[2]?.[0]?.alerts.map((x) => `${x.rule}:${x.status}`)).toEqual(['a:resolved', 'b:firing']);
    expect(perCycle[4]?.[0]?.status).toBe('resolved');
  });

  it('re-notifies on escalation to critical, not on de-escalation', () => {
    const { perCycle } = run([
      [evaluation(0)],
      [evaluation(1)],
      [evaluation(2, { severity: 'critical' })],
      [evaluation(3, { severity: 'warning' })],
    ]);
    expect(perCycle.map((n) => n[0]?.alerts[0]?.severity ?? '-')).toEqual(['-', 'warning', 'critical', '-']);
    expect(perCycle[2]?.[0]?.alerts[0]?.startsAtMs).toBe(T0);
    expect(perCycle[1]?.[0]?.id).not.toBe(perCycle[2]?.[0]?.id);
  });

  it('derives stable fingerprints and notification ids from content alone', () => {
    expect(alertFingerprint('credit', 'drift:amount:ks')).toMatch(/^[0-9a-f]{16}$/);
    expect(alertFingerprint('credit', 'drift:amount:ks')).toBe(alertFingerprint('credit', 'drift:amount:ks'));
    expect(alertFingerprint('credit', 'drift:amount:ks')).not.toBe(
      alertFingerprint('credit2', 'drift:amount:ks'),
    );
    expect(alertFingerprint('ab', 'c')).not.toBe(alertFingerprint('a', 'bc'));
    const first = run(breaching([true, true])).perCycle[1]?.[0];
    const second = run(breaching([true, true])).perCycle[1]?.[0];
    expect(first?.alerts[0]?.fingerprint).toBe(alertFingerprint('credit', 'drift:amount:ks'));
    expect(first?.id).toMatch(/^[0-9a-f]{32}$/);
    expect(second).toEqual(first);
  });

  it('survives a JSON round trip mid-streak and while firing, without re-firing', () => {
    const flags = [true, true, true, false, false];
    const straight = run(breaching(flags));
    // Restart after every cycle: serialise, parse, continue.
    let state = emptyPolicyState();
    const perCycle: Notification[][] = [];
    for (const cycle of breaching(flags)) {
      const result = applyEvaluations(
        parsePolicyState(JSON.stringify(state)),
        cycle,
        cycle[0]?.evaluatedAtMs ?? 0,
        policyOptions,
      );
      state = result.state;
      perCycle.push(result.notifications);
    }
    expect(perCycle).toEqual(straight.perCycle);
    expect(state).toEqual(straight.state);
  });

  it('ignores replayed or out-of-date windows, so a re-run cycle cannot fire twice', () => {
    const { state } = run(breaching([true, true]));
    const replay = applyEvaluations(state, [evaluation(1)], evaluation(1).evaluatedAtMs, policyOptions);
    expect(replay.notifications).toEqual([]);
    expect(replay.changedModels).toEqual([]);
    expect(replay.state).toEqual(state);
  });

  it('orders one cycle by window end, whatever order it arrives in', () => {
    const { perCycle } = run([[evaluation(1), evaluation(0)]]);
    expect(perCycle[0]?.[0]?.alerts[0]?.startsAtMs).toBe(T0);
  });

  it('resolves a firing rule nobody evaluates any more as stale, and forgets quiet ones', () => {
    const options = { ...policyOptions, staleAfterMs: 5 * WINDOW_MS };
    const { state } = run(
      [[evaluation(0, { severity: 'critical' }), evaluation(0, { rule: 'other', breaching: false })]],
      options,
    );
    const later = evaluation(0).evaluatedAtMs + 6 * WINDOW_MS;
    const result = applyEvaluations(state, [], later, options);
    expect(result.notifications).toHaveLength(1);
    expect(result.notifications[0]?.alerts[0]).toMatchObject({
      status: 'resolved',
      endsAtMs: later,
      annotations: { resolved_reason: 'stale' },
    });
    expect(Object.values(result.state.rules).map((r) => [r.rule, r.phase])).toEqual([
      ['drift:amount:ks', 'ok'],
    ]);
  });

  it('refuses state it did not write', () => {
    expect(() => parsePolicyState('{"rules":{}}')).toThrow(/version 1/);
    expect(() => parsePolicyState('null')).toThrow(/version 1/);
  });

  it('does not mutate the previous state', () => {
    const { state } = run(breaching([true]));
    const frozen = JSON.stringify(state);
    applyEvaluations(state, [evaluation(1)], 0, policyOptions);
    expect(JSON.stringify(state)).toBe(frozen);
  });

  it('keeps details JSON-safe (a BigInt would break persistence)', () => {
    const { state } = run([[evaluation(0, { details: { count: 12n, nested: { ok: true } } })]]);
    expect(Object.values(state.rules)[0]?.details).toEqual({ count: '12', nested: { ok: true } });
  });

  it('for any breaching sequence, notifications alternate firing/resolved and respect the windows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { maxLength: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        (flags, forWindows, resolveAfter) => {
          const options = {
            ...policyOptions,
            forWindows: { warning: forWindows, critical: forWindows },
            resolveAfterWindows: resolveAfter,
            cooldownMs: 0,
          };
          const { perCycle } = run(breaching(flags), options);
          const statuses = perCycle.flatMap((n, i) => n.map((x) => [i, x.status] as const));
          statuses.forEach(([i, status], k) => {
            expect(status).toBe(k % 2 === 0 ? 'firing' : 'resolved');
            const need = status === 'firing' ? forWindows : resolveAfter;
            const window = flags.slice(i - need + 1, i + 1);
            // The last `need` windows all agree with the transition.
            expect(window).toEqual(Array<boolean>(need).fill(status === 'firing'));
          });
        },
      ),
    );
  });
});
