import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'driftguard-no-chdb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * chdb is an optional dependency: a deployment installed with `--omit=optional` that asks for the
 * embedded store gets one sentence naming the package and the alternatives, not a stack trace.
 * The CLI runs with a module hook that makes `chdb` unresolvable, as if it were not installed.
 */
describe('the embedded store without the optional chdb package', () => {
  it('refuses with one clear sentence naming the package and the fix', () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['DRIFTGUARD_CLICKHOUSE_URL', 'DRIFTGUARD_STORE', 'DRIFTGUARD_STORE_PATH'])
      delete env[name];
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        path.join(repoRoot, 'test/fixtures/hooks/without-chdb.mjs'),
        path.join(repoRoot, 'bin/driftguard.js'),
        'migrate',
      ],
      { cwd: dir, env, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(
      'driftguard: the embedded store needs the optional package "chdb", which is not installed (npm ci --omit=optional leaves it out): run `npm install chdb`, or point driftguard at a ClickHouse server with DRIFTGUARD_CLICKHOUSE_URL',
    );
  });
});
