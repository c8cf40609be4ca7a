import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The on-disk dataset layout trainers read: `<dir>/train.jsonl`, `validation.jsonl` (one row per
 * line: `{"x": [...], "y": ..., "id": "..."}`, oldest first) and `meta.json`. `y` is the class
 * index into `meta.classes` (classification) or the target value (regression). A scoring set (what
 * `predict` is given) has `holdout.jsonl` with `{"x": [...], "id": "..."}` rows: no labels.
 */

export type SplitName = 'train' | 'validation' | 'holdout';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'validation', 'holdout'];

export interface DatasetRow {
  readonly x: readonly number[];
  readonly y: number;
  readonly id: string;
}

export function splitFile(dir: string, split: SplitName): string {
  return path.join(dir, `${split}.jsonl`);
}

/** Reads one split; throws with the file and line on a malformed row. */
export async function readSplit(dir: string, split: SplitName): Promise<DatasetRow[]> {
  const file = splitFile(dir, split);
  const text = await readFile(file, 'utf8');
  const rows: DatasetRow[] = [];
  let lineNumber = 0;
  for (const line of text.split('\n')) {
    lineNumber++;
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as Partial<DatasetRow>;
    if (!Array.isArray(row.x) || typeof row.y !== 'number' || typeof row.id !== 'string')
      throw new Error(`${file}:${lineNumber}: expected {"x": [numbers], "y": number, "id": string}`);
    rows.push(row as DatasetRow);
  }
  return rows;
}

export function formatRow(row: DatasetRow): string {
  return JSON.stringify({ x: row.x, y: row.y, id: row.id });
}

/** A row to score: encoded features and id (a scoring set's rows carry no label). */
export interface FeatureRow {
  readonly x: readonly number[];
  readonly id: string;
}

/** Reads the features and ids of one split; `y`, when present, is ignored. */
export async function readFeatureRows(dir: string, split: SplitName): Promise<FeatureRow[]> {
  const file = splitFile(dir, split);
  const text = await readFile(file, 'utf8');
  const rows: FeatureRow[] = [];
  let lineNumber = 0;
  for (const line of text.split('\n')) {
    lineNumber++;
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as Partial<FeatureRow>;
    if (!Array.isArray(row.x) || typeof row.id !== 'string')
      throw new Error(`${file}:${lineNumber}: expected {"x": [numbers], "id": string}`);
    rows.push({ x: row.x, id: row.id });
  }
  return rows;
}
