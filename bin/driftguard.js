#!/usr/bin/env node
// Entry point of the `driftguard` command. The daemon is written in TypeScript and run through
// tsx's loader (esbuild, transpile-only), so the installed command always runs the sources it
// ships with: no build step can go stale. Type-checking happens in CI (`npm run typecheck`).

// The embedded store runs its queries on libuv's thread pool (4 threads by default), next to
// file system and DNS work; room for its sessions keeps the rest from queuing behind them.
// libuv reads this when the pool first starts, so it is set before anything is imported.
process.env.UV_THREADPOOL_SIZE ??= '16';

const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
