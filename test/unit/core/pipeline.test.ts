import { Registry } from 'prom-client';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { DeadLetterMessage } from '../../../src/ingest/dead-letter.js';
import type { RecordDecoder } from '../../../src/ingest/decoder.js';
import { createNativeDecoder } from '../../../src/ingest/native-decoder.js';
import { IngestPipeline } from '../../../src/ingest/pipeline.js';
import type { InputRecord } from '../../../src/ingest/record.js';
import { createMetrics } from '../../../src/metrics.js';
import type { SerializedRows } from '../../../src/store/event-store.js';
import { DriftguardError } from '../../../src/errors.js';

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

function harness(decoders: Map<string, RecordDecoder>, failures = 0) {
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
    expect(
      stored.flatMap((r) => r.predictions).map((line) => (JSON.parse(line) as { id: string }).id),
    ).toEqual(['a', 'b']);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.headers).toMatchObject({
      origin: 'unit',
      'driftguard-reason-code': 'not_json',
      'driftguard-source-offset': '1',
    });
    expect([...commits.values()]).toEqual([{ topic: 'predictions', partition: 0, offset: '3' }]);
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
