import { afterEach } from 'vitest';

/**
 * A list to push cleanups onto; after each test they run, the last pushed first, and one that
 * fails does not stop the others. Call it once at the top level of a test file.
 */
export function cleanupsAfterEach(): Array<() => Promise<void>> {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  return cleanups;
}
