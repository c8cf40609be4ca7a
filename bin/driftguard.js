#!/usr/bin/env node
// Entry point of the `driftguard` command. The daemon is written in TypeScript and run through
// tsx's loader (esbuild, transpile-only), so the installed command always runs the sources it
// ships with: no build step can go stale. Type-checking happens in CI (`npm run typecheck`).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
