/**
 * Runs test bodies in a worker thread, each under a wall-clock budget, so that a detector
 * that never returns fails its test instead of blocking the suite: a synchronous loop cannot
 * be interrupted on the thread it runs on (vitest's own timeout never fires while it spins),
 * but a worker can be terminated from outside.
 *
 * A body is a named, synchronous export of a TypeScript module, called with `args` (JSON
 * values; none by default); it passes by returning and fails by throwing (fast-check's
 * `fc.assert` does). The bodies run one after
 * another in one worker, which loads the TypeScript once through tsx (a dependency already).
 * If one overruns, the worker is terminated: that body fails with the budget it broke and
 * the ones after it fail as not run.
 */
import { Worker } from 'node:worker_threads';

export interface Body {
  readonly module: URL;
  readonly name: string;
  readonly budgetMs: number;
  readonly args?: readonly unknown[];
}

type Report =
  | { readonly name: string; readonly event: 'started' }
  | { readonly name: string; readonly event: 'passed' }
  | { readonly name: string; readonly event: 'failed'; readonly message: string };

// CommonJS, because an `eval` worker is a script; tsx's register() lets it import TypeScript.
const bootstrap = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { register } = await import('tsx/esm/api');
  register();
  for (const { url, name, args } of workerData.bodies) {
    parentPort.postMessage({ name, event: 'started' });
    try {
      const body = (await import(url))[name];
      if (typeof body !== 'function') throw new Error(name + ' is not exported by ' + url);
      body(...args);
      parentPort.postMessage({ name, event: 'passed' });
    } catch (e) {
      parentPort.postMessage({ name, event: 'failed', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  }
})();
`;

interface Pending {
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

/** Starts the bodies; one promise per body name, settled when that body passes, fails or overruns. */
export function runWithinBudgets(bodies: readonly Body[]): Map<string, Promise<void>> {
  const budgets = new Map(bodies.map((b) => [b.name, b.budgetMs]));
  if (budgets.size !== bodies.length) throw new RangeError('body names must be unique');
  const pending = new Map<string, Pending>();
  const results = new Map<string, Promise<void>>();
  for (const b of bodies) {
    const result = new Promise<void>((resolve, reject) => pending.set(b.name, { resolve, reject }));
    result.catch(() => undefined); // a test filtered out must not leave an unhandled rejection
    results.set(b.name, result);
  }
  const worker = new Worker(bootstrap, {
    eval: true,
    workerData: { bodies: bodies.map((b) => ({ url: b.module.href, name: b.name, args: b.args ?? [] })) },
  });
  let timer: NodeJS.Timeout | undefined;
  const settle = (name: string, error?: Error): void => {
    const p = pending.get(name);
    if (p === undefined) return;
    pending.delete(name);
    if (error === undefined) p.resolve();
    else p.reject(error);
    if (pending.size === 0) void worker.terminate();
  };
  const abandon = (why: string): void => {
    clearTimeout(timer);
    for (const name of [...pending.keys()]) settle(name, new Error(`${name} not run: ${why}`));
    void worker.terminate();
  };
  worker.on('message', (m: Report) => {
    clearTimeout(timer);
    if (m.event === 'started') {
      const budgetMs = budgets.get(m.name) as number;
      const started = Date.now();
      timer = setTimeout(() => {
        settle(
          m.name,
          new Error(
            `${m.name} did not return within ${budgetMs} ms (${Date.now() - started} ms): a detector hangs`,
          ),
        );
        abandon(`${m.name} overran its budget before it`);
      }, budgetMs);
    } else if (m.event === 'passed') settle(m.name);
    else settle(m.name, new Error(m.message));
  });
  worker.on('error', (e) => abandon(`the worker failed: ${e.message}`));
  worker.on('exit', (code) => abandon(`the worker exited (code ${code})`));
  return results;
}
