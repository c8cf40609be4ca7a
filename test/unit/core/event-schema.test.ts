import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { validateOutcome, validatePrediction } from '../../../src/events/validate.js';

/**
 * The published JSON Schemas (docs/schemas) and the validator the daemon runs must agree:
 * a document one accepts, the other accepts. Checked on the schema's own examples and on a
 * table of edge cases, valid and invalid.
 */
const ajv = new Ajv2020({ strict: false, allErrors: true });
const load = (name: string): object =>
  JSON.parse(readFileSync(new URL(`../../../docs/schemas/${name}`, import.meta.url), 'utf8')) as object;
const predictionSchema = load('prediction.schema.json') as { examples: unknown[] };
const outcomeSchema = load('outcome.schema.json') as { examples: unknown[] };
const schemaAcceptsPrediction = ajv.compile(predictionSchema);
const schemaAcceptsOutcome = ajv.compile(outcomeSchema);

const predictions: unknown[] = [
  ...predictionSchema.examples,
  { model: 'm', id: 7 },
  { model: 'm', id: 'a', timestamp: 1_700_000_000_000, features: { f: true }, extra: { x: 1 } },
  { model: 'm', id: 'a', scores: 0.4, prediction: 3.2 },
  { model: 'bad name', id: 'a' },
  { model: 'm' },
  { model: 'm', id: '' },
  { model: 'm', id: 'a', timestamp: '2026-11-23 02:00' },
  { model: 'm', id: 'a', features: { f: [1] } },
  { model: 'm', id: 'a', scores: { a: 'x' } },
  { model: 'm', id: 'a', prediction: { a: 1 } },
];
const outcomes: unknown[] = [
  ...outcomeSchema.examples,
  { model: 'm', id: 'a', label: 3 },
  { model: 'm', id: 'a' },
  { model: 'm', label: 'x' },
  { model: 'm', id: 'a', label: [1] },
];

describe('published event schemas', () => {
  it.each(predictions.map((p) => [JSON.stringify(p), p]))(
    'agree with the daemon on prediction %s',
    (_text, input) => {
      expect(schemaAcceptsPrediction(input)).toBe(validatePrediction(input, 0).ok);
    },
  );
  it.each(outcomes.map((o) => [JSON.stringify(o), o]))(
    'agree with the daemon on outcome %s',
    (_text, input) => {
      expect(schemaAcceptsOutcome(input)).toBe(validateOutcome(input, 0).ok);
    },
  );
});
