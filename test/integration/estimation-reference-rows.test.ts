import { describe, expect, it } from 'vitest';
import { timedStore, type OperationTime } from '../../bench/timed-store.js';
import type { OutcomeEvent, PredictionEvent } from '../../src/events/types.js';
import { sqlIdentifier } from '../../kernel/sql.js';
import { EstimationStore } from '../../src/monitor/estimation/estimation-store.js';
import { ALL_MIGRATIONS } from '../../src/store/schema.js';
import { outcomeRow, predictionRow } from '../../src/store/event-rows.js';
import { cleanupsAfterEach, ENGINES, migratedDatabase } from '../support/index.js';

/**
 * The rows an estimator fit reads (EstimationStore.referenceRows), on every backend, against their
 * definition computed here from what was inserted: a model's first `limit` events by (ts_ms, id),
 * each once whatever was replayed, with its latest outcome. Four events a second, so the read's
 * bound (a second) cuts between events; replays of the oldest events before the merge make the
 * bound fall short, which must cost a second read and change nothing.
 */

const cleanups = cleanupsAfterEach();
const EVENTS = 400;

interface Expected {
  id: string;
  tsMs: number;
  label: string | null;
}

function prediction(model: string, i: number, startMs: number): PredictionEvent {
  return {
    model,
    version: 'v1',
    id: `${model}-${String(i).padStart(4, '0')}`,
    timestampMs: startMs + i * 250,
    features: { x: i / 10, channel: i % 3 === 0 ? 'web' : 'app' },
    prediction: i % 2 === 0 ? 'fraud' : 'ok',
    scores: { fraud: (i % 10) / 10, ok: 1 - (i % 10) / 10 },
    extra: '',
  };
}

function outcome(model: string, id: string, label: string, timestampMs: number): OutcomeEvent {
  return { model, id, timestampMs, label, extra: '' };
}

describe.each(ENGINES)('estimation reference rows on the %s backend', (engine) => {
  it('are the first rows by time, each once with its latest label, with replays or without', async () => {
    const { store, drop } = await migratedDatabase('estref', ALL_MIGRATIONS, engine);
    cleanups.push(drop);
    const nowMs = Math.floor(Date.now() / 1000) * 1000;
    const startMs = nowMs - 3_600_000;
    const predictions: string[] = [];
    const outcomes: string[] = [];
    const labels = new Map<string, string>();
    for (let i = 0; i < EVENTS; i++) {
      for (const model of ['ref', 'other']) {
        const event = prediction(model, i, startMs);
        predictions.push(`${JSON.stringify(predictionRow(event, 'test', nowMs))}\n`);
        // Every third event labelled; every sixth relabelled later (the latest label counts).
        if (i % 3 !== 0) continue;
        const first = outcome(model, event.id, 'ok', event.timestampMs + 1_000);
        outcomes.push(`${JSON.stringify(outcomeRow(first, 'test', nowMs))}\n`);
        let label = 'ok';
        if (i % 6 === 0) {
          label = 'fraud';
          const again = outcome(model, event.id, label, event.timestampMs + 2_000);
          outcomes.push(`${JSON.stringify(outcomeRow(again, 'test', nowMs + 5_000))}\n`);
        }
        if (model === 'ref') labels.set(event.id, label);
      }
    }
    await store.insert('predictions', predictions);
    await store.insert('outcomes', outcomes);

    const expected = (limit: number, from = 0): Expected[] =>
      Array.from({ length: Math.min(limit, EVENTS - from) }, (_, k) => {
        const event = prediction('ref', from + k, startMs);
        return { id: event.id, tsMs: event.timestampMs, label: labels.get(event.id) ?? null };
      });
    const spent = new Map<string, OperationTime>();
    const estimation = new EstimationStore(timedStore(store, spent));
    const read = async (
      limit: number,
      range?: { startMs: number; endMs: number },
    ): Promise<{ rows: Expected[]; reads: number }> => {
      spent.clear();
      const rows = await estimation.referenceRows('ref', limit, range);
      return {
        rows: rows.map((r) => ({ id: r.id, tsMs: r.tsMs, label: r.label })),
        reads: spent.get('estimation reference rows')?.calls ?? 0,
      };
    };

    // 101 events end inside a second: the bound keeps the rest of that second, the limit cuts it.
    expect(await read(101)).toEqual({ rows: expected(101), reads: 1 });
    expect(await read(EVENTS + 50)).toEqual({ rows: expected(EVENTS), reads: 1 });
    const range = { startMs: startMs + 50 * 250, endMs: startMs + 300 * 250 };
    expect(await read(120, range)).toEqual({ rows: expected(120, 50), reads: 1 });
    expect(spent.get('estimation reference bound')?.calls).toBe(1);
    // A range known to hold no more than the limit (a reference's span) needs no bound.
    spent.clear();
    const whole = await estimation.referenceRows('ref', 250, range, 250);
    expect(whole.map((r) => r.id)).toEqual(expected(250, 50).map((r) => r.id));
    expect(spent.get('estimation reference bound')).toBeUndefined();
    expect(spent.get('estimation reference rows')?.calls).toBe(1);
    const fromRows = await estimation.referenceRows('ref', 3, undefined);
    expect(fromRows.map((r) => [r.predictionLabel, r.scores, r.features])).toEqual([
      ['fraud', { fraud: 0, ok: 1 }, { x: 0, channel: 'web' }],
      ['ok', { fraud: 0.1, ok: 0.9 }, { x: 0.1, channel: 'app' }],
      ['fraud', { fraud: 0.2, ok: 0.8 }, { x: 0.2, channel: 'app' }],
    ]);

    // A replay of the first 80 events, stored again as a separate part. Merges are stopped where
    // one statement can (a cluster's local tables are on four nodes), so the copies stay.
    const db = sqlIdentifier(store.database);
    if (store.cluster === undefined)
      await store.command('stop merges', `SYSTEM STOP MERGES ${db}.predictions`);
    await store.insert(
      'predictions',
      Array.from(
        { length: 80 },
        (_, i) => `${JSON.stringify(predictionRow(prediction('ref', i, startMs), 'test', nowMs + 1_000))}\n`,
      ),
    );
    // Stored copies seen after a read were there during it (merges only remove them): then the
    // bound fell short and the rows were read again, whole.
    const copies = async (): Promise<number> => {
      const [row] = await store.select<{ n: string }>(
        'count',
        `SELECT count() AS n FROM ${db}.predictions WHERE model = 'ref'`,
      );
      return Number(row?.n) - EVENTS;
    };
    for (const limit of [101, 300]) {
      const replayed = await read(limit);
      expect(replayed.rows).toEqual(expected(limit));
      if ((await copies()) > 0) expect(replayed.reads, `limit ${limit}`).toBe(2);
    }
    if (store.cluster === undefined) expect(await copies()).toBe(80);
    expect(await estimation.referenceRows('ref', 0, undefined)).toEqual([]);
  });
});
