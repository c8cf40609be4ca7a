import { readFileSync } from 'node:fs';

/** The package version, read once from package.json (shown in /openapi.json and `--version`). */
export const DRIFTGUARD_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
