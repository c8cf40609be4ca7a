/**
 * Paths built from names that arrive from outside (model names over Kafka, version, study and
 * trial names): each name must be one path segment that stays inside its base directory,
 * whatever pattern the name passed before. `..` matches `[A-Za-z0-9_.-]+`, so pattern checks
 * alone do not keep a retune's artifact inside the model store.
 */
import path from 'node:path';
import { DriftguardError } from './errors.js';

/** Why `name` cannot be one path segment, or undefined when it can. */
export function segmentProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name === '.' || name === '..') return `"${name}" names a directory itself, not an entry inside it`;
  if (name.includes('\0')) return 'it contains a NUL character';
  if (name.includes('/') || name.includes('\\')) return 'it contains a path separator';
  if (path.isAbsolute(name)) return 'it is an absolute path';
  return undefined;
}

/**
 * `base/seg1/seg2/...`, refusing (IDENTIFIER_INVALID, not retriable) any segment that is not a
 * single plain name and any result that resolves outside `base`. `what` names the segments in
 * the error ("model name", "version").
 */
export function pathInside(base: string, segments: readonly string[], what = 'name'): string {
  for (const segment of segments) {
    const problem = segmentProblem(segment);
    if (problem !== undefined)
      throw new DriftguardError(
        'IDENTIFIER_INVALID',
        `${what} ${JSON.stringify(segment)} cannot be used as a folder name: ${problem}; use letters, digits, "_", "-" and "." (not "." or ".." alone)`,
        { retriable: false, details: { segment } },
      );
  }
  const root = path.resolve(base);
  const target = path.resolve(root, ...segments);
  const relative = path.relative(root, target);
  // Belt and braces: the checks above already exclude every way out, but the containment is the
  // property that matters, so it is checked on the resolved result too.
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative))
    throw new DriftguardError(
      'IDENTIFIER_INVALID',
      `${what} ${JSON.stringify(segments.join('/'))} resolves outside ${root}`,
      { retriable: false, details: { segments: [...segments] } },
    );
  return target;
}
