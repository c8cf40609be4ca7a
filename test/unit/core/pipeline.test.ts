import { Registry } from 'prom-client';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { DeadLetterMessage } from '../../../src/ingest/dead-letter.js';
import type { RecordDecoder } from '../../../src/ingest/decoder.js';
import { createNativeDecoder } from '../../../src/ingest/native-decoder.js';
import { IngestPipeline } from '../../../src/ingest/pipeline.js';
import type { InputRecord } from '../../../src/ingest/record.js';
import { createMetrics } from '../../../src/metrics.js';
import type { SerializedRows } from '../../../src/store/event-store.js';
import { DriftguardError } from '../../../kernel/errors.js';
import { createDecoder } from '../../../src/decoders/index.js';
import { validateOutcome, validatePrediction } from '../../../src/events/validate.js';
import type { OutcomeEvent, PredictionEvent } from '../../../src/events/types.js';
import { outcomeRow, predictionRow } from '../../../src/store/event-rows.js';

const options = {
  maxBatchRows: 1_000,
  maxBufferBytes: 1_000_000,
  flushIntervalMs: 5,
  retryInitialDelayMs: 1,
  retryMaxDelayMs: 5,
};

function record(offset: number, value: unknown, topic = 'predictions', partition = 0): InputRecord {
  return {
    topic,
    partition,
    offset: String(offset),
    key: null,
    value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
    headers: { origin: 'unit' },
    timestampMs: 1_795_399_200_000,
  };
}

/** The JSONEachRow lines of every insert, in order (an insert's element may hold several lines). */
function storedLines(
  stored: readonly SerializedRows[],
  table: keyof SerializedRows = 'predictions',
): string[] {
  return stored.flatMap((rows) =>
    Buffer.concat(rows[table].map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece)))
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== ''),
  );
}

function harness(decoders: Map<string, RecordDecoder>, failures = 0, now?: () => number) {
  const stored: SerializedRows[] = [];
  const dead: DeadLetterMessage[] = [];
  let remainingFailures = failures;
  const pipeline = new IngestPipeline(options, {
    decoders,
    store: {
      insert: async (rows) => {
        if (remainingFailures-- > 0)
          throw new DriftguardError('STORE_UNAVAILABLE', 'down', { retriable: true });
        stored.push(rows);
      },
      ping: async () => undefined,
    },
    deadLetters: { send: async (messages) => void dead.push(...messages) },
    metrics: createMetrics(new Registry(), { defaultMetrics: false }),
    logger: pino({ level: 'silent' }),
    ...(now === undefined ? {} : { now }),
  });
  return { pipeline, stored, dead };
}

describe('IngestPipeline', () => {
  it('stores valid events, dead-letters invalid ones and commits past both', async () => {
    const { pipeline, stored, dead } = harness(
      new Map([['predictions', createNativeDecoder('prediction', 10_000)]]),
    );
    const commits = await pipeline.processBatch([
      record(0, { model: 'm', id: 'a' }),
      record(1, 'nope'),
      record(2, { model: 'm', id: 'b' }),
    ]);
    expect(storedLines(stored).map((line) => (JSON.parse(line) as { id: string }).id)).toEqual(['a', 'b']);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.headers).toMatchObject({
      origin: 'unit',
      'driftguard-reason-code': 'not_json',
      'driftguard-source-offset': '1',
    });
    expect([...commits.values()]).toEqual([{ topic: 'predictions', partition: 0, offset: '3' }]);
  });

  it('stores through the fast lane exactly the rows the full decoder would, in record order', async () => {
    const now = 1_795_400_000_000;
    const { pipeline, stored, dead } = harness(
      new Map([
        ['predictions', createDecoder('prediction', {}, 10_000)],
        ['outcomes', createDecoder('outcome', {}, 10_000)],
      ]),
      0,
      () => now,
    );
    const predictions = [
      { model: 'm', id: 'plain', features: { x: 1.5, c: 'DE', gone: null }, scores: { a: 0.25, b: 0.75 } },
      { model: 'm', id: 'bool', features: { flag: true } }, // normalised: the full decoder's
      { model: 'm', id: 'ünï', timestamp: '2026-11-23T02:00:00Z', prediction: 'fraud' }, // not ASCII
      { model: 'm', id: 'extra', tenant: 'acme' }, // unknown field kept as extra
      { model: 'm', id: 42, timestamp: 1_795_399_000_000, prediction: 3 },
    ];
    const outcomes = [
      { model: 'm', id: 'plain', label: 'ok' },
      { model: 'm', id: 'bool', label: true },
    ];
    await pipeline.processBatch([
      ...predictions.map((event, i) => record(i, event)),
      record(predictions.length, '{"model":"m"}'),
      // Plain, but over maxEventBytes: rejected as the full decoder would.
      record(predictions.length + 1, { model: 'm', id: 'big', version: 'v'.repeat(10_001) }),
      ...outcomes.map((event, i) => record(i, event, 'outcomes')),
    ]);
    const rowOf = (event: unknown, offset: number, topic: string) => {
      const validated =
        topic === 'predictions'
          ? validatePrediction(event, 1_795_399_200_000)
          : validateOutcome(event, 1_795_399_200_000);
      if (!validated.ok) throw new Error(validated.rejection.message);
      const source = `${topic}/0/${offset}`;
      return JSON.stringify(
        topic === 'predictions'
          ? predictionRow(validated.value as PredictionEvent, source, now)
          : outcomeRow(validated.value as OutcomeEvent, source, now),
      );
    };
    expect(storedLines(stored)).toEqual(predictions.map((event, i) => rowOf(event, i, 'predictions')));
    expect(storedLines(stored, 'outcomes')).toEqual(outcomes.map((event, i) => rowOf(event, i, 'outcomes')));
    expect(dead.map((message) => message.headers['driftguard-reason-code'])).toEqual([
      'missing_field',
      'oversized',
    ]);
  });

  it('keeps retrying a store that is down and commits only once it succeeded', async () => {
    const { pipeline, stored } = harness(
      new Map([['predictions', createNativeDecoder('prediction', 10_000)]]),
      3,
    );
    const commits = await pipeline.processBatch([record(7, { model: 'm', id: 'a' })]);
    expect(stored).toHaveLength(1);
    expect([...commits.values()][0]?.offset).toBe('8');
  });

  it('does not commit past a held record until its partner releases it', async () => {
    // A toy pairing decoder: "req" records are held, a "res" record releases the held one.
    let held: InputRecord | undefined;
    const pairing: RecordDecoder = {
      decode(input) {
        const body = JSON.parse(String(input.value)) as { kind: string };
        if (body.kind === 'req') {
          held = input;
          return { predictions: [], outcomes: [], held: true };
        }
        const released = held ? [{ topic: held.topic, partition: held.partition, offset: held.offset }] : [];
        held = undefined;
        return {
          predictions: [
            {
              model: 'm',
              version: '',
              id: 'x',
              timestampMs: 0,
              features: {},
              prediction: 1,
              scores: null,
              extra: '',
            },
          ],
          outcomes: [],
          released,
        };
      },
    };
    const { pipeline } = harness(new Map([['t', pairing]]));
    const first = await pipeline.processBatch([record(0, { kind: 'req' }, 't', 0)]);
    expect([...first.values()][0]?.offset).toBe('0');
    const second = await pipeline.processBatch([record(5, { kind: 'res' }, 't', 1)]);
    expect(new Map([...second.values()].map((c) => [c.partition, c.offset]))).toEqual(
      new Map([
        [0, '1'],
        [1, '6'],
      ]),
    );
  });
});

describe('IngestPipeline, pipelined', () => {
  /** A store whose inserts the test completes or fails one by one. */
  function gatedHarness() {
    const inserts: Array<{ ids: string[]; done: () => void; fail: (error: Error) => void }> = [];
    const pipeline = new IngestPipeline(
      { ...options, flushIntervalMs: 10_000 },
      {
        decoders: new Map([['predictions', createNativeDecoder('prediction', 10_000)]]),
        store: {
          insert: (rows) =>
            new Promise<void>((resolve, reject) => {
              const ids = storedLines([rows]).map((line) => (JSON.parse(line) as { id: string }).id);
              inserts.push({ ids, done: resolve, fail: reject });
            }),
          ping: async () => undefined,
        },
        deadLetters: { send: async () => undefined },
        metrics: createMetrics(new Registry(), { defaultMetrics: false }),
        logger: pino({ level: 'silent' }),
      },
    );
    return { pipeline, inserts };
  }

  const batch = (from: number, count: number, partition = 0): InputRecord[] =>
    Array.from({ length: count }, (_, i) =>
      record(from + i, { model: 'm', id: `e${from + i}` }, 'predictions', partition),
    );

  /** Resolves to what `promise` settled with by now, or 'pending'. */
  async function state<T>(promise: Promise<T>): Promise<T | 'pending' | 'rejected'> {
    const pending = Symbol('pending');
    const winner = await Promise.race([
      promise.then(
        (value) => value,
        () => 'rejected' as const,
      ),
      new Promise<typeof pending>((resolve) => setImmediate(() => resolve(pending))),
    ]);
    return winner === pending ? 'pending' : winner;
  }

  it('queues the next batch while the previous one is stored, and commits each only after its insert', async () => {
    const { pipeline, inserts } = gatedHarness();
    const first = await pipeline.submit(batch(0, 3));
    // Submitted while the first insert is in flight: queued at once, not stored.
    const second = await pipeline.submit(batch(3, 2));
    expect(inserts.map((i) => i.ids)).toEqual([['e0', 'e1', 'e2']]);
    expect(await state(first.stored)).toBe('pending');

    inserts[0]?.done();
    expect([...(await first.stored).values()]).toEqual([{ topic: 'predictions', partition: 0, offset: '3' }]);
    // The second batch was decoded ahead, but its offsets count only once its own insert succeeds.
    expect(await state(second.stored)).toBe('pending');
    expect(inserts.map((i) => i.ids)).toEqual([
      ['e0', 'e1', 'e2'],
      ['e3', 'e4'],
    ]);
    inserts[1]?.done();
    expect([...(await second.stored).values()]).toEqual([
      { topic: 'predictions', partition: 0, offset: '5' },
    ]);
  });

  it('never commits past a failed insert, even for a later batch whose own insert succeeded', async () => {
    const { pipeline, inserts } = gatedHarness();
    const first = await pipeline.submit(batch(0, 3));
    const second = await pipeline.submit(batch(3, 3, 1));
    inserts[0]?.fail(new DriftguardError('STORE_QUERY_FAILED', 'rejected', { retriable: false }));
    await expect(first.stored).rejects.toThrow('rejected');
    await vi.waitFor(() => expect(inserts).toHaveLength(2));
    inserts[1]?.done();
    // Its rows are stored, but the chain is broken: the consumer restarts from what was committed.
    await expect(second.stored).rejects.toThrow('rejected');

    // After a reset the same records go through again and commit normally.
    pipeline.reset();
    const again = await pipeline.submit(batch(0, 6));
    await vi.waitFor(() => expect(inserts).toHaveLength(3));
    inserts[2]?.done();
    expect([...(await again.stored).values()]).toEqual([{ topic: 'predictions', partition: 0, offset: '6' }]);
  });

  it('does not let a batch of dead letters only commit ahead of an earlier batch still being stored', async () => {
    const { pipeline, inserts } = gatedHarness();
    const first = await pipeline.submit(batch(0, 2));
    const invalid = await pipeline.submit([record(2, 'not json'), record(3, 'nor this')]);
    expect(await state(invalid.stored)).toBe('pending');
    inserts[0]?.done();
    await first.stored;
    expect([...(await invalid.stored).values()]).toEqual([
      { topic: 'predictions', partition: 0, offset: '4' },
    ]);
  });

  it('commits nothing for a partition revoked while its batch was being stored', async () => {
    const { pipeline, inserts } = gatedHarness();
    const submitted = await pipeline.submit([...batch(0, 2, 0), ...batch(10, 2, 1)]);
    pipeline.revoke([{ topic: 'predictions', partition: 0 }]);
    inserts[0]?.done();
    expect([...(await submitted.stored).values()]).toEqual([
      { topic: 'predictions', partition: 1, offset: '12' },
    ]);
  });

  it('drain stores what is queued, so a stop commits everything it consumed', async () => {
    const { pipeline, inserts } = gatedHarness();
    const first = await pipeline.submit(batch(0, 1));
    const second = await pipeline.submit(batch(1, 1));
    const drained = pipeline.drain();
    inserts[0]?.done();
    await vi.waitFor(() => expect(inserts).toHaveLength(2));
    inserts[1]?.done();
    await drained;
    expect(await state(first.stored)).not.toBe('pending');
    expect([...(await second.stored).values()][0]?.offset).toBe('2');
  });
});

describe('IngestPipeline and rows the store refuses', () => {
  /**
   * A store that refuses every insert holding a row with `"id":"poison-…"`, as ClickHouse refuses
   * a whole insert for one value it cannot parse (the real refusal is in the integration tests).
   */
  function refusingHarness() {
    const stored: SerializedRows[] = [];
    const dead: DeadLetterMessage[] = [];
    let inserts = 0;
    const metrics = createMetrics(new Registry(), { defaultMetrics: false });
    const text = (rows: SerializedRows): string =>
      [...rows.predictions, ...rows.outcomes]
        .map((piece) => (typeof piece === 'string' ? piece : Buffer.from(piece).toString('utf8')))
        .join('');
    const pipeline = new IngestPipeline(options, {
      decoders: new Map([
        ['predictions', createDecoder('prediction', {}, 10_000)],
        ['outcomes', createDecoder('outcome', {}, 10_000)],
      ]),
      store: {
        insert: async (rows) => {
          inserts++;
          if (text(rows).includes('"id":"poison-'))
            throw new DriftguardError('STORE_DATA_REJECTED', 'ClickHouse refused the data: bad value', {
              retriable: false,
            });
          stored.push(rows);
        },
        ping: async () => undefined,
      },
      deadLetters: { send: async (messages) => void dead.push(...messages) },
      metrics,
      logger: pino({ level: 'silent' }),
    });
    return { pipeline, stored, dead, metrics, inserts: () => inserts };
  }

  it('dead-letters only the refused records, with the store reason, stores the rest and commits past all', async () => {
    const { pipeline, stored, dead, metrics, inserts } = refusingHarness();
    const records = [
      ...Array.from({ length: 100 }, (_, i) => record(i, { model: 'm', id: `ok-${i}` })),
      record(100, { model: 'm', id: 'poison-1' }),
      ...Array.from({ length: 50 }, (_, i) =>
        record(101 + i, { model: 'm', id: `late-${i}` }, 'predictions', 1),
      ),
      record(
        151,
        { model: 'm', id: 'poison-2', features: { é: 'non-ascii: full decoder' } },
        'predictions',
        1,
      ),
      record(152, { model: 'm', id: 'poison-3', label: 1 }, 'outcomes'),
      record(153, { model: 'm', id: 'fine', label: 1 }, 'outcomes'),
    ];
    const commits = await pipeline.processBatch(records);
    const ids = [...storedLines(stored), ...storedLines(stored, 'outcomes')].map(
      (line) => (JSON.parse(line) as { id: string }).id,
    );
    expect(new Set(ids).size).toBe(151);
    expect(ids.some((id) => id.startsWith('poison'))).toBe(false);
    expect(
      dead.map((m) => [m.headers['driftguard-source-offset'], m.headers['driftguard-reason-code']]),
    ).toEqual([
      ['100', 'store_rejected'],
      ['151', 'store_rejected'],
      ['152', 'store_rejected'],
    ]);
    expect(String(dead[0]?.headers['driftguard-reason'])).toContain('bad value');
    expect(dead[0]?.value?.toString()).toBe('{"model":"m","id":"poison-1"}');
    expect([...commits.values()]).toEqual([
      { topic: 'predictions', partition: 0, offset: '101' },
      { topic: 'predictions', partition: 1, offset: '152' },
      { topic: 'outcomes', partition: 0, offset: '154' },
    ]);
    // Bisection, not one insert per row.
    expect(inserts()).toBeLessThan(60);
    const text = await metrics.registry.metrics();
    expect(text).toContain('driftguard_dead_lettered_total{topic="predictions",code="store_rejected"} 2');
    expect(text).toContain('driftguard_ingest_events_total{topic="predictions",result="accepted"} 150');
    expect(text).toContain('driftguard_ingest_events_total{topic="predictions",result="rejected"} 2');
  });

  it('dead-letters a record whose decoder throws instead of failing the batch', async () => {
    const stored: SerializedRows[] = [];
    const dead: DeadLetterMessage[] = [];
    const native = createNativeDecoder('prediction', 10_000);
    const pipeline = new IngestPipeline(options, {
      decoders: new Map([
        [
          'predictions',
          {
            decode: (r, now) => {
              if (r.value?.toString().includes('boom'))
                throw new RangeError('Maximum call stack size exceeded');
              return native.decode(r, now);
            },
          },
        ],
      ]),
      store: { insert: async (rows) => void stored.push(rows), ping: async () => undefined },
      deadLetters: { send: async (messages) => void dead.push(...messages) },
      metrics: createMetrics(new Registry(), { defaultMetrics: false }),
      logger: pino({ level: 'silent' }),
    });
    const commits = await pipeline.processBatch([
      record(0, { model: 'm', id: 'a' }),
      record(1, { model: 'm', id: 'boom' }),
      record(2, { model: 'm', id: 'b' }),
    ]);
    expect(storedLines(stored).map((line) => (JSON.parse(line) as { id: string }).id)).toEqual(['a', 'b']);
    expect(dead.map((m) => m.headers['driftguard-reason-code'])).toEqual(['decode_failed']);
    expect(String(dead[0]?.headers['driftguard-reason'])).toContain('RangeError');
    expect([...commits.values()][0]?.offset).toBe('3');
  });
});
