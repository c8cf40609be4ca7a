// `npm ci` refuses a lock file that leaves out any optional dependency of a locked package,
// even one for another platform. The registry this project is built from does not carry
// every platform package (chdb's darwin and linux-arm64 libraries, for instance), so
// `npm install` quietly omits them and CI then fails in its first second. This check
// catches that before CI does: every optional dependency named by a locked package must
// have an entry of its own (entries for other platforms are never fetched).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface LockEntry {
  readonly optionalDependencies?: Readonly<Record<string, string>>;
}
interface Lock {
  readonly packages: Readonly<Record<string, LockEntry>>;
}

const lock = JSON.parse(readFileSync(new URL('../../../package-lock.json', import.meta.url), 'utf8')) as Lock;

/** Lock keys that npm's resolution would look at for `name` required from `from`. */
function candidates(from: string, name: string): string[] {
  const keys: string[] = [];
  let dir = from;
  for (;;) {
    keys.push(dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`);
    const cut = dir.lastIndexOf('/node_modules/');
    if (dir === '') break;
    dir = cut === -1 ? '' : dir.slice(0, cut);
  }
  return keys;
}

describe('package-lock.json', () => {
  it('has an entry for every optional dependency of every locked package', () => {
    const missing: string[] = [];
    for (const [key, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        if (!candidates(key, name).some((k) => k in lock.packages))
          missing.push(`${key || '(root)'} -> ${name}`);
      }
    }
    expect(
      missing,
      'add these entries (version, os, cpu, optional: true) by hand; see docs/storage.md, "Optional"',
    ).toEqual([]);
  });
});
