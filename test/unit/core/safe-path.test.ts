import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pathInside, segmentProblem } from '../../../kernel/safe-path.js';

const base = path.resolve('/var/lib/driftguard/models');

describe('pathInside', () => {
  it('joins plain names under the base', () => {
    expect(pathInside(base, ['churn', 'st-1-t3'])).toBe(path.join(base, 'churn', 'st-1-t3'));
    expect(pathInside(base, ['a.b', '..c', 'c..', '...'])).toBe(path.join(base, 'a.b', '..c', 'c..', '...'));
  });

  it.each([
    ['..', /names a directory itself/],
    ['.', /names a directory itself/],
    ['', /empty/],
    ['a/../..', /path separator/],
    ['../etc', /path separator/],
    ['a\\..\\..', /path separator/],
    ['/etc', /path separator/],
    ['x\0y', /NUL/],
  ])('refuses %j', (name, reason) => {
    expect(() => pathInside(base, ['churn', name], 'version')).toThrow(reason);
    expect(() => pathInside(base, [name], 'model name')).toThrow(/cannot be used as a folder name/);
    expect(segmentProblem(name)).toBeDefined();
  });

  it('refuses with a non-retriable IDENTIFIER_INVALID that names the value', () => {
    let thrown: unknown;
    try {
      pathInside(base, ['..'], 'model name');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'IDENTIFIER_INVALID', retriable: false });
    expect(() => pathInside(base, ['..'], 'model name')).toThrow(/model name "\.\."/);
  });

  it('never returns a path outside the base, for any generated name', () => {
    const pieces = ['..', '.', '/', '\\', 'a', '\0', '', 'b.', '~'];
    for (const x of pieces)
      for (const y of pieces)
        for (const z of pieces) {
          const name = x + y + z;
          let result: string | undefined;
          try {
            result = pathInside(base, [name]);
          } catch {
            continue;
          }
          expect(path.relative(base, result).startsWith('..')).toBe(false);
          expect(path.dirname(result)).toBe(base);
        }
  });
});
