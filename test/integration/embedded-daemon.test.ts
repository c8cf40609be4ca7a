import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../../src/store/embedded-store.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { cleanupsAfterEach, kcatProduce, servicesEnv, uniqueName, waitFor } from '../support/index.js';

/**
 * The daemon on its embedded store, as a user without a ClickHouse server runs it: a real
 * `driftguard start` (with no ClickHouse configured at all), events produced by kcat through the
 * real broker, counts read through the daemon's API, the store read directly only once no daemon
 * holds it.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOKEN = 'test-token-0123456789abcdef';
const cleanups = cleanupsAfterEach();
/** The services' ClickHouse settings that global setup put in our environment: not for these daemons. */
const NO_SERVER = [
  'DRIFTGUARD_CLICKHOUSE_URL',
  'DRIFTGUARD_CLICKHOUSE_USER',
  'DRIFTGUARD_STORE',
  'DRIFTGUARD_STORE_PATH',
];

function prediction(i: number): string {
  return JSON.stringify({
    model: 'fraud',
    id: `req-${i}`,
    timestamp: 1_795_399_200_000 + i * 1000,
    features: { amount: i * 1.5, country: ['DE', 'FR', 'US'][i % 3] },
    prediction: i % 7 === 0 ? 'fraud' : 'ok',
  });
}

function outcome(i: number): string {
  return JSON.stringify({
    model: 'fraud',
    id: `req-${i}`,
    timestamp: 1_795_399_260_000 + i * 1000,
    label: 'ok',
  });
}

async function workspace(prefix: string): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await mkdtemp(path.join(tmpdir(), `driftguard-${prefix}-`));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const name = uniqueName(prefix);
  // A short session, so that a restarted daemon does not wait long for its killed self to leave.
  await writeFile(
    path.join(dir, 'driftguard.yaml'),
    'kafka: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000 }\n',
  );
  return {
    dir,
    env: {
      DRIFTGUARD_KAFKA_BROKERS: servicesEnv().kafkaBrokers,
      DRIFTGUARD_TOPIC_PREDICTIONS: `${name}.p`,
      DRIFTGUARD_TOPIC_OUTCOMES: `${name}.o`,
      DRIFTGUARD_TOPIC_DEAD_LETTER: `${name}.dlq`,
      DRIFTGUARD_CONSUMER_GROUP: `${name}-group`,
      DRIFTGUARD_API_TOKEN: TOKEN,
    },
  };
}

async function startIn(dir: string, env: Record<string, string>): Promise<DaemonProcess> {
  const daemon = await DaemonProcess.start(env, ['--config', 'driftguard.yaml'], 90_000, {
    cwd: dir,
    unset: NO_SERVER,
  });
  cleanups.push(() => daemon.dispose());
  return daemon;
}

interface StoredJson {
  models: Array<{ model: string; stored?: { predictions: { total: number }; outcomes: { total: number } } }>;
}

async function stored(daemon: DaemonProcess): Promise<{ predictions: number; outcomes: number }> {
  const response = await fetch(`${daemon.url}/v1/models`);
  const body = (await response.json()) as StoredJson;
  const fraud = body.models.find((m) => m.model === 'fraud');
  return { predictions: fraud?.stored?.predictions.total ?? 0, outcomes: fraud?.stored?.outcomes.total ?? 0 };
}

/** Runs the CLI in `cwd`; resolves with its exit code and output. */
function cli(
  cwd: string,
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number | null; output: string }> {
  const inherited: NodeJS.ProcessEnv = { ...process.env };
  for (const name of NO_SERVER) delete inherited[name];
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'driftguard.js'), ...args], {
    cwd,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}

describe('the daemon on its embedded store', () => {
  it('stores durably under ./driftguard-data when no ClickHouse is configured, and keeps the directory to one process', async () => {
    const { dir, env } = await workspace('embedded');
    const first = await startIn(dir, env);
    const said = first.logs.find((line) => line.msg.startsWith('storing in the embedded ClickHouse engine'));
    expect(said?.msg).toContain(path.join(dir, 'driftguard-data'));
    expect(said?.msg).toContain('DRIFTGUARD_CLICKHOUSE_URL');

    await kcatProduce(
      env.DRIFTGUARD_KAFKA_BROKERS as string,
      env.DRIFTGUARD_TOPIC_PREDICTIONS as string,
      Array.from({ length: 200 }, (_, i) => ({ value: prediction(i) })),
    );
    await kcatProduce(
      env.DRIFTGUARD_KAFKA_BROKERS as string,
      env.DRIFTGUARD_TOPIC_OUTCOMES as string,
      Array.from({ length: 80 }, (_, i) => ({ value: outcome(i) })),
    );
    await waitFor(
      async () => {
        const counts = await stored(first);
        return counts.predictions === 200 && counts.outcomes === 80;
      },
      { timeoutMs: 60_000, description: '200 predictions and 80 outcomes reported stored' },
    );

    // While it runs, the directory is its alone: a CLI command is refused with the lock and the fix…
    const migrate = await cli(dir, env, 'migrate');
    expect(migrate.code).not.toBe(0);
    expect(migrate.output).toMatch(
      new RegExp(
        `driftguard: the embedded store .*driftguard-data is locked by process \\d+ .*stop that process, or send the command through the running daemon's HTTP API \\(--url\\)`,
      ),
    );
    // …and goes through the daemon instead when given its URL.
    const sample = path.join(dir, 'reference.jsonl');
    await writeFile(
      sample,
      Array.from({ length: 50 }, (_, i) => JSON.stringify({ amount: i, country: 'DE' })).join('\n'),
    );
    const reference = await cli(
      dir,
      { ...env, DRIFTGUARD_API_TOKEN: TOKEN },
      'reference',
      'set',
      'fraud',
      '--file',
      sample,
      '--url',
      first.url,
      '--json',
    );
    expect(reference.code, reference.output).toBe(0);
    expect(JSON.parse(reference.output.trim().split('\n').pop() ?? '{}')).toEqual({
      model: 'fraud',
      rows: 50,
      features: { amount: 'numeric', country: 'categorical' },
    });
    // A second daemon on the same directory is refused at start.
    const twin = DaemonProcess.spawn(
      { ...env, DRIFTGUARD_CONSUMER_GROUP: uniqueName('twin') },
      ['--config', 'driftguard.yaml'],
      { cwd: dir, unset: NO_SERVER },
    );
    cleanups.push(() => twin.dispose());
    expect((await twin.exited).code).not.toBe(0);
    expect(twin.stderr).toMatch(/driftguard: the embedded store .* is locked by process \d+/);
    // A replica elsewhere (its own directory) in the same consumer group is refused too.
    const elsewhere = await mkdtemp(path.join(tmpdir(), 'driftguard-replica-'));
    cleanups.push(() => rm(elsewhere, { recursive: true, force: true }));
    await writeFile(
      path.join(elsewhere, 'driftguard.yaml'),
      'kafka: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 1000 }\n',
    );
    const replica = DaemonProcess.spawn(env, ['--config', 'driftguard.yaml'], {
      cwd: elsewhere,
      unset: NO_SERVER,
    });
    cleanups.push(() => replica.dispose());
    expect((await replica.exited).code).not.toBe(0);
    expect(JSON.stringify(replica.logs)).toMatch(
      /already has a member that holds every partition: an embedded store serves one replica only/,
    );

    // SIGTERM drains and exits 0; a restarted daemon finds every row where it left them.
    first.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    expect(existsSync(path.join(dir, 'driftguard-data'))).toBe(true);
    const second = await startIn(dir, env);
    expect(await stored(second)).toEqual({ predictions: 200, outcomes: 80 });
    second.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });

  it('loses nothing and shows nothing twice when killed with SIGKILL mid-stream', async () => {
    const { dir, env } = await workspace('embedded_kill');
    const total = 20_000;
    const first = await startIn(dir, env);
    const producing = (async () => {
      for (let start = 0; start < total; start += 2_000) {
        await kcatProduce(
          env.DRIFTGUARD_KAFKA_BROKERS as string,
          env.DRIFTGUARD_TOPIC_PREDICTIONS as string,
          Array.from({ length: 2_000 }, (_, i) => ({ value: prediction(start + i) })),
        );
      }
    })();
    await waitFor(async () => (await stored(first)).predictions >= 2_000, {
      timeoutMs: 60_000,
      description: 'first events stored',
    });
    first.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    await producing;

    const second = await startIn(dir, env);
    await waitFor(async () => (await stored(second)).predictions >= total, {
      timeoutMs: 90_000,
      description: `${total} events stored after the restart`,
    });
    second.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    // With no daemon holding it, read the store itself: every event once, after replays collapse.
    const store = await openEmbeddedStore({
      path: path.join(dir, 'driftguard-data'),
      database: 'driftguard',
      sessions: 1,
    });
    try {
      const [row] = await store.select<{ n: string; ids: string; twice: string }>(
        'check',
        `SELECT count() AS n, uniqExact(id) AS ids,
           (SELECT count() FROM (SELECT id FROM driftguard.predictions FINAL GROUP BY id HAVING count() > 1)) AS twice
         FROM driftguard.predictions FINAL`,
      );
      expect(row).toEqual({ n: String(total), ids: String(total), twice: '0' });
    } finally {
      await store.close();
    }
  });
});
