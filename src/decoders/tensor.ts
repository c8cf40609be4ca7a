import { rejection, type Decoded } from '../events/types.js';

/**
 * The one tensor model every payload format (OIP JSON, OIP protobuf, KServe v1) is reduced to, so
 * that feature naming and prediction extraction exist once. The first dimension is the batch:
 * shape `[N, ...rest]` is N rows of `product(rest)` columns, `[N]` is N rows of one column, and a
 * scalar `[]` is one row of one column.
 */

export const OIP_DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type OipDatatype = (typeof OIP_DATATYPES)[number];
/** `JSON` is KServe v1's untyped rows: each value a number, string, boolean or null. */
export type Datatype = OipDatatype | 'JSON';

export type TensorValue = number | string | boolean | null;

export interface Tensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly rows: number;
  readonly columns: number;
  /** Row-major: value (r, c) is at `r * columns + c`. */
  readonly values: readonly TensorValue[];
  /** JSON path of the tensor in its message, for rejection messages. */
  readonly path: string;
}

const DATATYPE_SET: ReadonlySet<string> = new Set(OIP_DATATYPES);

export function isOipDatatype(value: unknown): value is OipDatatype {
  return typeof value === 'string' && DATATYPE_SET.has(value);
}

export function checkDatatype(value: unknown, path: string): Decoded<OipDatatype> {
  if (isOipDatatype(value)) return { ok: true, value };
  return rejection(
    'unsupported_format',
    path,
    `unknown tensor datatype ${JSON.stringify(value)}; expected one of ${OIP_DATATYPES.join(', ')}`,
  );
}

/** Rows and columns of a shape, or a rejection for negative / fractional / absurd dimensions. */
export function checkShape(value: unknown, path: string): Decoded<readonly number[]> {
  if (!Array.isArray(value))
    return rejection('wrong_type', path, 'tensor "shape" must be an array of integers');
  const dims: number[] = [];
  for (const [i, d] of value.entries()) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      return rejection(
        'wrong_type',
        `${path}[${i}]`,
        `shape dimensions must be non-negative integers, got ${JSON.stringify(d)}`,
      );
    }
    dims.push(d);
  }
  return { ok: true, value: dims };
}

function isInteger(datatype: OipDatatype): boolean {
  return datatype.startsWith('INT') || datatype.startsWith('UINT');
}

/** Whether one element fits its datatype; returns a rejection message or undefined. */
function checkValue(
  datatype: Datatype,
  v: unknown,
): { code: 'wrong_type' | 'non_finite_number'; why: string } | undefined {
  if (datatype === 'JSON') {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return undefined;
    if (typeof v === 'number') {
      return Number.isFinite(v)
        ? undefined
        : { code: 'non_finite_number', why: 'values must be finite numbers' };
    }
    return {
      code: 'wrong_type',
      why: `expected a number, string, boolean or null, got ${JSON.stringify(v)}`,
    };
  }
  if (datatype === 'BYTES') {
    return typeof v === 'string' ? undefined : { code: 'wrong_type', why: `BYTES elements must be strings` };
  }
  if (datatype === 'BOOL') {
    return typeof v === 'boolean'
      ? undefined
      : { code: 'wrong_type', why: `BOOL elements must be true or false` };
  }
  if (typeof v !== 'number')
    return { code: 'wrong_type', why: `${datatype} elements must be numbers, got ${JSON.stringify(v)}` };
  if (!Number.isFinite(v)) {
    return {
      code: 'non_finite_number',
      why: `${datatype} elements must be finite (NaN and ±Infinity cannot be monitored)`,
    };
  }
  if (isInteger(datatype) && !Number.isInteger(v))
    return { code: 'wrong_type', why: `${datatype} elements must be integers` };
  return undefined;
}

/**
 * Build a tensor from a flat row-major element list, checking that the shape's element count
 * matches and that every element fits the datatype.
 */
export function makeTensor(
  name: string,
  datatype: Datatype,
  shape: readonly number[],
  values: readonly unknown[],
  path: string,
): Decoded<Tensor> {
  const rows = shape.length === 0 ? 1 : (shape[0] ?? 1);
  let columns = 1;
  for (const d of shape.slice(1)) columns *= d;
  const expected = rows * columns;
  if (expected !== values.length) {
    return rejection(
      'wrong_type',
      `${path}.data`,
      `tensor ${JSON.stringify(name)} has shape [${shape.join(', ')}] (${expected} elements) but ${values.length} data elements`,
    );
  }
  for (const [i, v] of values.entries()) {
    const bad = checkValue(datatype, v);
    if (bad !== undefined)
      return rejection(bad.code, `${path}.data[${i}]`, `tensor ${JSON.stringify(name)}: ${bad.why}`);
  }
  return {
    ok: true,
    value: { name, datatype, rows, columns, values: values as readonly TensorValue[], path },
  };
}

/** Flatten OIP `data`, which may be nested by shape or already flat; both are row-major. */
export function flattenData(data: unknown): unknown[] {
  if (!Array.isArray(data)) return [data];
  if (!data.some(Array.isArray)) return data as unknown[];
  const out: unknown[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else out.push(v);
  };
  walk(data);
  return out;
}

/** The one batch size all tensors of a message share, or a rejection naming the odd one out. */
export function commonRows(tensors: readonly Tensor[], path: string): Decoded<number> {
  const first = tensors[0];
  if (first === undefined) return rejection('missing_field', path, 'the message has no tensors');
  for (const t of tensors) {
    if (t.rows !== first.rows) {
      return rejection(
        'wrong_type',
        t.path,
        `tensor ${JSON.stringify(t.name)} has ${t.rows} rows but ${JSON.stringify(first.name)} has ${first.rows}; the first dimension is the batch and must agree`,
      );
    }
  }
  return { ok: true, value: first.rows };
}
