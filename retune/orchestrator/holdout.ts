/**
 * The holdout labels the promotion gate compares predictions against, read from the dataset's
 * `holdout.jsonl` (rows `{"x": [...], "y": ..., "id": "..."}`; `y` is a class index into
 * `DatasetRef.classes` for classification, the target for regression). Predictions are mapped
 * the same way, so a trainer may answer class names or class indices.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetRef } from '../trainers/trainer.js';

export async function readHoldoutLabels(dataset: DatasetRef): Promise<Array<string | number>> {
  const file = path.join(dataset.dir, 'holdout.jsonl');
  const text = await readFile(file, 'utf8');
  const labels: Array<string | number> = [];
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    if (raw.trim() === '') continue;
    const row = JSON.parse(raw) as { y?: unknown };
    if (typeof row.y !== 'number' && typeof row.y !== 'string') {
      throw new Error(`${file}:${line}: expected a row with "y" (number), got ${raw.slice(0, 120)}`);
    }
    labels.push(normalizeOutcome(dataset, row.y));
  }
  return labels;
}

/** Classification: a class index becomes its class name; anything else is left as is. */
export function normalizeOutcome(dataset: DatasetRef, value: string | number): string | number {
  if (dataset.task !== 'classification') return typeof value === 'string' ? Number(value) : value;
  if (typeof value === 'number' && Number.isInteger(value) && dataset.classes[value] !== undefined)
    return dataset.classes[value];
  return String(value);
}
