import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { findBinary } from '../../src/dev-services/index.js';

/**
 * The real `kcat` binary as an independent Kafka client for tests: what the daemon reads was
 * produced by another implementation, and what it writes is read back by one.
 */

export interface KcatMessage {
  /** `null` produces a tombstone. kcat cannot send an empty non-null value, so '' is refused. */
  value: string | Buffer | null;
  key?: string | Buffer;
  headers?: Record<string, string>;
}

export interface KcatProduceOptions {
  /** Send everything to one partition. @default the partitioner's choice */
  partition?: number;
  /** @default 30_000 */
  timeoutMs?: number;
}

/**
 * Produces `messages` with `kcat -P`, in order. kcat applies `-H` headers to a whole
 * invocation, so consecutive messages with the same headers (and key presence) share one;
 * messages are split by random delimiters that do not occur in any value or key, so binary
 * values and values with newlines arrive byte for byte.
 */
export async function kcatProduce(
  brokers: string,
  topic: string,
  messages: readonly KcatMessage[],
  options: KcatProduceOptions = {},
): Promise<void> {
  for (const batch of batchByHeaders(messages)) {
    const [first] = batch;
    if (first === undefined) continue;
    const values = batch.map((message) => toBuffer(message.value));
    const keys = batch.map((message) => (message.key === undefined ? undefined : toBuffer(message.key)));
    const delimiter = pickDelimiter([...values, ...keys]);
    const keyDelimiter = pickDelimiter([...values, ...keys], delimiter);
    const hasKeys = first.key !== undefined;
    const args = [
      '-P',
      '-b',
      brokers,
      '-t',
      topic,
      '-D',
      delimiter,
      '-Z',
      '-X',
      'message.max.bytes=16777216',
    ];
    if (hasKeys) args.push('-K', keyDelimiter);
    if (options.partition !== undefined) args.push('-p', String(options.partition));
    for (const [name, value] of Object.entries(first.headers ?? {})) {
      if (name === '' || name.includes('='))
        throw new Error(`kcat header name ${JSON.stringify(name)} must be non-empty and hold no '='`);
      args.push('-H', `${name}=${value}`);
    }
    const chunks: Buffer[] = [];
    batch.forEach((message, index) => {
      if (index > 0) chunks.push(Buffer.from(delimiter, 'latin1'));
      const key = keys[index];
      if (hasKeys && key !== undefined) chunks.push(key, Buffer.from(keyDelimiter, 'latin1'));
      chunks.push(values[index] ?? Buffer.alloc(0));
    });
    await runKcat(args, Buffer.concat(chunks), options.timeoutMs ?? 30_000);
  }
}

function batchByHeaders(messages: readonly KcatMessage[]): KcatMessage[][] {
  const batches: KcatMessage[][] = [];
  let previous: string | undefined;
  for (const message of messages) {
    if (message.value !== null && toBuffer(message.value).length === 0) {
      throw new Error('kcat skips empty values: send null for a tombstone, or a non-empty value');
    }
    const signature = JSON.stringify([Object.entries(message.headers ?? {}), message.key !== undefined]);
    if (signature !== previous || batches.length === 0) batches.push([]);
    batches.at(-1)?.push(message);
    previous = signature;
  }
  return batches;
}

function toBuffer(value: string | Buffer | null): Buffer {
  if (value === null) return Buffer.alloc(0);
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/** A delimiter of control characters and random letters (kcat reads it literally), absent from every payload. */
function pickDelimiter(payloads: ReadonlyArray<Buffer | undefined>, avoid?: string): string {
  for (;;) {
    const candidate = `\x1e${randomBytes(6)
      .toString('hex')
      .replace(/[0-9]/g, (digit) => 'ghijklmnop'[Number(digit)] ?? 'g')}\x1f`;
    const bytes = Buffer.from(candidate, 'latin1');
    if (candidate !== avoid && payloads.every((payload) => payload === undefined || !payload.includes(bytes)))
      return candidate;
  }
}

export interface KcatConsumedMessage {
  topic: string;
  partition: number;
  offset: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  key: string | null;
  /** The payload as kcat's JSON prints it (UTF-8 text); null for a tombstone. */
  value: string | null;
  headers: Record<string, string>;
}

export interface KcatConsumeOptions {
  /** Wait for this many messages; without it, read what the topic holds now and stop. */
  count?: number;
  /** @default 30_000 */
  timeoutMs?: number;
  /** `beginning`, `end`, or an absolute offset (then `partition` is usually given). @default 'beginning' */
  offset?: 'beginning' | 'end' | number;
  partition?: number;
}

/**
 * Reads `topic` with `kcat -C -J` (JSON envelope: partition, offset, timestamp, key, headers).
 * Messages from different partitions arrive interleaved, each partition in order. Rejects on
 * timeout with what was read so far in the message.
 */
export async function kcatConsume(
  brokers: string,
  topic: string,
  options: KcatConsumeOptions = {},
): Promise<KcatConsumedMessage[]> {
  const args = ['-C', '-b', brokers, '-t', topic, '-J', '-o', String(options.offset ?? 'beginning')];
  if (options.partition !== undefined) args.push('-p', String(options.partition));
  if (options.count === undefined) args.push('-e');
  else args.push('-c', String(options.count));
  const stdout = await runKcat(args, undefined, options.timeoutMs ?? 30_000, (partial) => {
    const got = partial.split('\n').filter((line) => line.trim() !== '').length;
    return `read ${got} of ${options.count ?? 'all'} messages from ${topic}`;
  });
  return stdout
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(parseEnvelope);
}

interface KcatEnvelope {
  topic: string;
  partition: number;
  offset: number;
  ts: number;
  key: string | null;
  payload: string | null;
  headers?: string[] | Record<string, string>;
}

/** kcat 1.7 prints headers as a flat `[name, value, ...]` array; its help says an object. Both are read. */
export function parseEnvelope(line: string): KcatConsumedMessage {
  const envelope = JSON.parse(line) as KcatEnvelope;
  const headers: Record<string, string> = {};
  if (Array.isArray(envelope.headers)) {
    for (let i = 0; i + 1 < envelope.headers.length; i += 2)
      headers[envelope.headers[i] ?? ''] = envelope.headers[i + 1] ?? '';
  } else if (envelope.headers !== undefined) {
    Object.assign(headers, envelope.headers);
  }
  return {
    topic: envelope.topic,
    partition: envelope.partition,
    offset: envelope.offset,
    timestamp: envelope.ts,
    key: envelope.key,
    value: envelope.payload,
    headers,
  };
}

let kcatPath: string | undefined;

function runKcat(
  args: string[],
  input: Buffer | undefined,
  timeoutMs: number,
  describeTimeout?: (stdout: string) => string,
): Promise<Buffer> {
  kcatPath ??= findBinary('kcat') ?? 'kcat';
  const file = kcatPath;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const out = Buffer.concat(stdout);
      const err = Buffer.concat(stderr).toString('utf8').trim().split('\n').slice(-10).join('\n');
      if (timedOut) {
        const what = describeTimeout?.(out.toString('utf8')) ?? 'no result';
        reject(
          new Error(`kcat ${args.join(' ')} timed out after ${timeoutMs} ms (${what}); stderr:\n${err}`),
        );
      } else if (code !== 0 || /% ERROR|Delivery failed/i.test(err)) {
        reject(new Error(`kcat ${args.join(' ')} failed (exit ${String(code)}):\n${err}`));
      } else {
        resolve(out);
      }
    });
    if (input !== undefined && child.stdin !== null) {
      child.stdin.on('error', () => undefined); // an early exit is reported by 'close'
      child.stdin.end(input);
    }
  });
}
