import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { createLogger } from '../kernel/logger.js';
import { endpointsFromEnv, servicesUp } from '../src/dev-services/index.js';

/**
 * Global setup of the `integration` project: starts (or reuses) the local services, installing
 * them when missing and running as root, and hands their URLs to the test files through
 * `provide` (read them with `servicesEnv()` from test/support). The same values are set in
 * process.env for code that reads its config from the environment. The services are left
 * running: the next run reuses them (`npx driftguard dev-services down` stops them).
 */
export default async function setup(project: TestProject): Promise<void> {
  const info = await servicesUp({ logger: createLogger('warn') });
  // Embedded-store directories of earlier runs' test processes (see test/support/database.ts).
  rmSync('.driftguard/test-embedded', { recursive: true, force: true });
  project.provide('driftguardServices', endpointsFromEnv(info.env));
  Object.assign(process.env, info.env);
}
