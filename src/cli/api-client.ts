import type { Command } from 'commander';
import { isModelName, MODEL_NAME_RULE } from '../../kernel/names.js';

/**
 * The CLI's client of the daemon's HTTP API: the token from DRIFTGUARD_API_TOKEN, errors turned
 * into one sentence that says what failed and what to do.
 */
export interface ApiClientDeps {
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

export interface ApiCommandOptions {
  url: string;
  json?: boolean;
}

/** `--url` and `--json`, shared by every command that talks to the daemon. */
export function withApiOptions(command: Command): Command {
  return command
    .option('--url <url>', 'the daemon HTTP API', DEFAULT_API_URL)
    .option('--json', 'machine-readable output');
}

/**
 * `/v1/models/<model>` for a model name given on the command line, refused here (one sentence,
 * before any request) when it breaks the model-name rule.
 */
export function modelPath(model: string): string {
  if (!isModelName(model))
    throw new Error(`invalid model name ${JSON.stringify(model.slice(0, 140))}: ${MODEL_NAME_RULE}`);
  return `/v1/models/${encodeURIComponent(model)}`;
}

export class ApiClient {
  constructor(
    private readonly base: string,
    private readonly deps: ApiClientDeps = {},
  ) {}

  async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const fetchFn = this.deps.fetch ?? fetch;
    const token = (this.deps.env ?? process.env)['DRIFTGUARD_API_TOKEN'];
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token !== undefined && token !== '') headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined)
      headers['content-type'] = typeof body === 'string' ? 'text/plain' : 'application/json';
    const url = new URL(path, this.base);
    let response: Response;
    try {
      response = await fetchFn(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new Error(
        `cannot reach the driftguard daemon at ${this.base} (${(error as Error).message}); is it running? pass --url`,
        { cause: error },
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      parsed = { raw: text };
    }
    if (!response.ok) {
      const apiError = (parsed as { error?: { code?: string; message?: string } }).error;
      const hint =
        response.status === 401 && (token === undefined || token === '')
          ? " (set DRIFTGUARD_API_TOKEN to the daemon's API token)"
          : '';
      throw new Error(
        `${method} ${url.pathname} failed with ${response.status} ${apiError?.code ?? ''}: ${apiError?.message ?? text}${hint}`,
      );
    }
    return parsed as T;
  }
}

/** A plain text table: columns padded to their widest cell. */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return `${[line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`;
}
