/**
 * Parses the metric lines a training program prints, in the two conventions existing HPO
 * scripts already use (Katib):
 *
 * - text: `name=value` pairs, several per line, matched by Katib's regex
 *   `([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)`; a pair whose value is not a number
 *   (`lr=`, `mode=fast`) is ignored;
 * - JSON: a line that is a JSON object, e.g. `{"step": 3, "val_loss": 0.4}`; every finite
 *   numeric field is a metric; `"final": true` marks the line as the final result.
 *
 * The step of a line is the value of the first step key present (`step`, then `epoch`, by
 * default); it is not itself a metric. Pure.
 */

/** Katib's metric regex, verbatim. */
export const KATIB_METRIC_PATTERN = /([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)/g;

export const DEFAULT_STEP_KEYS: readonly string[] = ['step', 'epoch'];

export interface MetricLine {
  readonly metrics: Readonly<Record<string, number>>;
  /** Integer step (epoch, round) when the line carries one. */
  readonly step?: number;
  /** A JSON line with `"final": true`: the trial's final metrics, not an intermediate report. */
  readonly final: boolean;
  readonly format: 'text' | 'json';
}

export interface MetricLineOptions {
  /** Keys read as the step, first present wins. @default ['step', 'epoch'] */
  readonly stepKeys?: readonly string[];
}

/** The metrics on one output line, or undefined when it carries none. */
export function parseMetricLine(line: string, options: MetricLineOptions = {}): MetricLine | undefined {
  const stepKeys = options.stepKeys ?? DEFAULT_STEP_KEYS;
  const trimmed = line.trim();
  if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
    const json = parseJsonObject(trimmed);
    if (json !== undefined) return fromJson(json, stepKeys);
  }
  return fromText(trimmed, stepKeys);
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    // Not JSON after all (e.g. a log line in braces): fall back to the text convention.
    return undefined;
  }
}

function fromJson(json: Record<string, unknown>, stepKeys: readonly string[]): MetricLine | undefined {
  const metrics: Record<string, number> = {};
  for (const [key, value] of Object.entries(json)) {
    if (stepKeys.includes(key) || typeof value !== 'number' || !Number.isFinite(value)) continue;
    metrics[key] = value;
  }
  if (Object.keys(metrics).length === 0) return undefined;
  return withStep({ metrics, final: json['final'] === true, format: 'json' }, pickStep(json, stepKeys));
}

function pickStep(record: Record<string, unknown>, stepKeys: readonly string[]): number | undefined {
  for (const key of stepKeys) {
    const value = record[key];
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  }
  return undefined;
}

function fromText(line: string, stepKeys: readonly string[]): MetricLine | undefined {
  const values: Record<string, number> = {};
  let found = false;
  for (const match of line.matchAll(KATIB_METRIC_PATTERN)) {
    const name = match[1] as string;
    const raw = match[2] ?? '';
    // `\d*` lets the value group match "", "-" or "+": not a number, so not a metric.
    if (!/\d/.test(raw)) continue;
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    values[name] = value;
    found = true;
  }
  if (!found) return undefined;
  const step = pickStep(values, stepKeys);
  const metrics: Record<string, number> = {};
  for (const [key, value] of Object.entries(values)) if (!stepKeys.includes(key)) metrics[key] = value;
  if (Object.keys(metrics).length === 0) return undefined;
  return withStep({ metrics, final: false, format: 'text' }, step);
}

function withStep(line: Omit<MetricLine, 'step'>, step: number | undefined): MetricLine {
  return step === undefined ? line : { ...line, step };
}

/**
 * Splits a byte stream into lines: feed chunks, get complete lines; `flush()` returns the rest.
 * Bounded: a "line" longer than `maxLineChars` is cut there (a runaway progress bar must not
 * grow memory without bound).
 */
export class LineSplitter {
  private buffer = '';
  constructor(private readonly maxLineChars = 64 * 1024) {}

  push(chunk: string): string[] {
    this.buffer += chunk;
    const lines: string[] = [];
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) >= 0) {
      lines.push(this.buffer.slice(0, newline).replace(/\r$/, ''));
      this.buffer = this.buffer.slice(newline + 1);
    }
    while (this.buffer.length > this.maxLineChars) {
      lines.push(this.buffer.slice(0, this.maxLineChars));
      this.buffer = this.buffer.slice(this.maxLineChars);
    }
    return lines;
  }

  flush(): string[] {
    const rest = this.buffer;
    this.buffer = '';
    return rest === '' ? [] : [rest.replace(/\r$/, '')];
  }
}
