import { rejection, type Decoded } from '../events/types.js';
import { checkDatatype, checkShape, commonRows, flattenData, makeTensor, type Tensor } from './tensor.js';

/**
 * Request and response bodies of model servers, reduced to tensors. Covers the Open Inference
 * Protocol (KServe v2) JSON body and KServe v1 (`instances` / `predictions`); the protobuf form of
 * OIP is in oip-protobuf.ts and lands in the same types.
 */

export interface TensorRequest {
  readonly kind: 'tensors';
  readonly tensors: readonly Tensor[];
  readonly rows: number;
  /** OIP body fields, when present; CloudEvents / Seldon metadata take precedence. */
  readonly id: string | undefined;
  readonly model: string | undefined;
  readonly version: string | undefined;
}

/** KServe v1 rows given as objects: the keys are the feature names. */
export interface RecordRequest {
  readonly kind: 'records';
  readonly records: readonly Readonly<Record<string, unknown>>[];
  readonly rows: number;
  readonly id: undefined;
  readonly model: undefined;
  readonly version: undefined;
}

export type InferenceRequest = TensorRequest | RecordRequest;

export interface InferenceResponse {
  readonly tensors: readonly Tensor[];
  readonly rows: number;
  readonly id: string | undefined;
  readonly model: string | undefined;
  readonly version: string | undefined;
}

export type InferenceBody =
  | { readonly side: 'request'; readonly request: InferenceRequest }
  | { readonly side: 'response'; readonly response: InferenceResponse };

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether a parsed JSON value looks like an inference body (used by auto-detection). */
export function looksLikeInferenceBody(value: unknown): boolean {
  if (!isObject(value)) return false;
  return (
    Array.isArray(value.inputs) ||
    Array.isArray(value.outputs) ||
    Array.isArray(value.instances) ||
    Array.isArray(value.predictions)
  );
}

/** Whether the body is OIP (as opposed to KServe v1); only meaningful when looksLikeInferenceBody. */
export function isOipBody(value: unknown): boolean {
  return isObject(value) && (Array.isArray(value.inputs) || Array.isArray(value.outputs));
}

function optionalText(value: unknown, path: string): Decoded<string | undefined> {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (typeof value === 'string') return { ok: true, value: value === '' ? undefined : value };
  if (typeof value === 'number' && Number.isSafeInteger(value)) return { ok: true, value: String(value) };
  return rejection('wrong_type', path, `expected a string, got ${JSON.stringify(value)}`);
}

function parseOipTensors(list: readonly unknown[], path: string): Decoded<Tensor[]> {
  const tensors: Tensor[] = [];
  for (const [i, raw] of list.entries()) {
    const at = `${path}[${i}]`;
    if (!isObject(raw))
      return rejection('not_object', at, 'each tensor must be an object {name, shape, datatype, data}');
    if (typeof raw.name !== 'string' || raw.name === '') {
      return rejection('missing_field', `${at}.name`, 'each tensor needs a non-empty "name"');
    }
    const datatype = checkDatatype(raw.datatype, `${at}.datatype`);
    if (!datatype.ok) return datatype;
    const shape = checkShape(raw.shape, `${at}.shape`);
    if (!shape.ok) return shape;
    if (raw.data === undefined)
      return rejection('missing_field', `${at}.data`, `tensor ${JSON.stringify(raw.name)} has no "data"`);
    const tensor = makeTensor(raw.name, datatype.value, shape.value, flattenData(raw.data), at);
    if (!tensor.ok) return tensor;
    tensors.push(tensor.value);
  }
  return { ok: true, value: tensors };
}

function parseOip(body: JsonObject, path: string): Decoded<InferenceBody> {
  const id = optionalText(body.id, `${path}.id`);
  if (!id.ok) return id;
  const model = optionalText(body.model_name, `${path}.model_name`);
  if (!model.ok) return model;
  const version = optionalText(body.model_version, `${path}.model_version`);
  if (!version.ok) return version;
  const side = Array.isArray(body.inputs) ? 'inputs' : 'outputs';
  const tensors = parseOipTensors(body[side] as unknown[], `${path}.${side}`);
  if (!tensors.ok) return tensors;
  const rows = commonRows(tensors.value, `${path}.${side}`);
  if (!rows.ok) return rows;
  const common = {
    tensors: tensors.value,
    rows: rows.value,
    id: id.value,
    model: model.value,
    version: version.value,
  };
  return side === 'inputs'
    ? { ok: true, value: { side: 'request', request: { kind: 'tensors', ...common } } }
    : { ok: true, value: { side: 'response', response: common } };
}

function flatRow(row: unknown): unknown[] {
  return Array.isArray(row) ? flattenData(row) : [row];
}

/** v1 rows that are arrays (or scalars) as one tensor named `name` with untyped values. */
function v1Tensor(name: string, rows: readonly unknown[], path: string): Decoded<Tensor> {
  const values: unknown[] = [];
  let columns: number | undefined;
  for (const [i, row] of rows.entries()) {
    const flat = flatRow(row);
    columns ??= flat.length;
    if (flat.length !== columns) {
      return rejection(
        'wrong_type',
        `${path}[${i}]`,
        `row ${i} has ${flat.length} values but row 0 has ${columns}; every row needs the same columns`,
      );
    }
    values.push(...flat);
  }
  const shape = [rows.length, columns ?? 0];
  return makeTensor(name, 'JSON', shape, values, path);
}

function parseV1(body: JsonObject, path: string): Decoded<InferenceBody> {
  if (Array.isArray(body.instances)) {
    const rows = body.instances as unknown[];
    const at = `${path}.instances`;
    if (rows.length === 0) return rejection('missing_field', at, '"instances" is empty: nothing to monitor');
    if (rows.every(isObject)) {
      return {
        ok: true,
        value: {
          side: 'request',
          request: {
            kind: 'records',
            records: rows,
            rows: rows.length,
            id: undefined,
            model: undefined,
            version: undefined,
          },
        },
      };
    }
    if (rows.some(isObject)) {
      return rejection('wrong_type', at, 'mix of object rows and array rows; send all rows in one form');
    }
    const tensor = v1Tensor('instances', rows, at);
    if (!tensor.ok) return tensor;
    return {
      ok: true,
      value: {
        side: 'request',
        request: {
          kind: 'tensors',
          tensors: [tensor.value],
          rows: rows.length,
          id: undefined,
          model: undefined,
          version: undefined,
        },
      },
    };
  }
  const rows = body.predictions as unknown[];
  const at = `${path}.predictions`;
  const badIndex = rows.findIndex((r) => isObject(r));
  if (badIndex >= 0) {
    return rejection(
      'unsupported_format',
      `${at}[${badIndex}]`,
      'object predictions are not interpreted; return a value or an array of class probabilities per row',
    );
  }
  const tensor = v1Tensor('predictions', rows, at);
  if (!tensor.ok) return tensor;
  return {
    ok: true,
    value: {
      side: 'response',
      response: {
        tensors: [tensor.value],
        rows: rows.length,
        id: undefined,
        model: undefined,
        version: undefined,
      },
    },
  };
}

/** A parsed JSON body → request or response tensors, or a rejection saying what is wrong where. */
export function parseInferenceBody(value: unknown, path = '$'): Decoded<InferenceBody> {
  if (!isObject(value)) return rejection('not_object', path, 'an inference body must be a JSON object');
  if (isOipBody(value)) return parseOip(value, path);
  if (Array.isArray(value.instances) || Array.isArray(value.predictions)) return parseV1(value, path);
  return rejection(
    'unsupported_format',
    path,
    'not an inference body: expected OIP "inputs"/"outputs" tensors or KServe v1 "instances"/"predictions"',
  );
}
