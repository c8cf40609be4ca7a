import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { table } from '../../../src/cli/api-client.js';
import { registerObserveCommands } from '../../../src/cli/observe-commands.js';

function run(
  args: string[],
  responses: Record<string, { status: number; body: unknown }>,
  env: Record<string, string> = {},
) {
  const out: string[] = [];
  const requests: Array<{ url: string; auth: string | undefined }> = [];
  const fakeFetch = ((input: URL | string, init?: RequestInit) => {
    const url = String(input);
    requests.push({ url, auth: (init?.headers as Record<string, string> | undefined)?.['authorization'] });
    const path = new URL(url).pathname;
    const answer = responses[path] ?? {
      status: 404,
      body: { error: { code: 'not_found', message: 'no such route' } },
    };
    return Promise.resolve(new Response(JSON.stringify(answer.body), { status: answer.status }));
  }) as typeof fetch;
  const program = new Command().exitOverride();
  registerObserveCommands(program, { fetch: fakeFetch, env, stdout: { write: (t: string) => out.push(t) } });
  return { done: program.parseAsync(['node', 'driftguard', ...args]), out, requests };
}

describe('observe commands', () => {
  it('prints models and their health as a table', async () => {
    const { done, out, requests } = run(
      ['status', '--url', 'http://dg:8080'],
      {
        '/v1/models': {
          status: 200,
          body: {
            models: [
              {
                model: 'fraud',
                configured: true,
                recentEvents: 10,
                lastEventMs: 0,
                stored: { predictions: { total: 900, window: 500 }, outcomes: { total: 450, window: 300 } },
                health: {
                  status: 'critical',
                  reasons: ['amount drifted'],
                  evaluatedAtMs: 0,
                  windowEvents: 500,
                  driftedFeatures: 2,
                },
              },
              { model: 'eta', configured: false, recentEvents: 7, lastEventMs: 0, health: null },
            ],
          },
        },
      },
      { DRIFTGUARD_API_TOKEN: 'tok' },
    );
    await done;
    const text = out.join('');
    expect(text).toMatch(/^MODEL\s+HEALTH/);
    expect(text).toMatch(/fraud\s+critical\s+500\s+900\s+450\s+2\s+1970-01-01 00:00:00\s+amount drifted/);
    expect(text).toMatch(/eta\s+not evaluated\s+7\s+-\s+-/);
    expect(requests[0]).toEqual({ url: 'http://dg:8080/v1/models', auth: 'Bearer tok' });
  });

  it('turns an API error into one sentence with the fix', async () => {
    const { done } = run(['alerts'], {
      '/v1/alerts': {
        status: 401,
        body: { error: { code: 'unauthorized', message: 'missing or wrong bearer token' } },
      },
    });
    await expect(done).rejects.toThrow(
      /GET \/v1\/alerts failed with 401 unauthorized: missing or wrong bearer token \(set DRIFTGUARD_API_TOKEN/,
    );
  });

  it('pads table columns to their widest cell', () => {
    expect(table(['A', 'BB'], [['xyz', '1']])).toBe('A    BB\n---  --\nxyz  1\n');
  });
});
