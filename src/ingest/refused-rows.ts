import { DriftguardError } from '../../kernel/errors.js';

/**
 * Finds the rows a store refuses inside a refused insert, so that one bad row never takes its
 * neighbours with it: the rows are split in halves and each half inserted again, down to single
 * rows, so k refused rows among n cost about 2·k·log2(n) inserts and every other row is stored.
 *
 * Only a refusal of the data (STORE_DATA_REJECTED) is bisected: any other failure (the store down,
 * a missing table) says nothing about particular rows and is thrown as it is, so that a broken
 * store never turns into a flood of dead letters.
 */
export interface RefusedItem<T> {
  readonly item: T;
  /** The store's refusal of this item alone. */
  readonly error: DriftguardError;
}

export function isDataRefusal(error: unknown): error is DriftguardError {
  return error instanceof DriftguardError && error.code === 'STORE_DATA_REJECTED';
}

/**
 * Inserts `items` with `insert`, isolating refused ones; resolves with them (in order) once every
 * other item is stored. `refusedAsAWhole`: the caller already saw `items` refused together, so
 * the first insert is of the halves.
 */
export async function insertIsolatingRefused<T>(
  items: readonly T[],
  insert: (part: readonly T[]) => Promise<void>,
  refusedAsAWhole = false,
): Promise<RefusedItem<T>[]> {
  const refused: RefusedItem<T>[] = [];
  // An explicit stack rather than recursion; the first half is visited first, so order is kept.
  const stack: Array<readonly T[]> = [items];
  let split = refusedAsAWhole && items.length > 1;
  while (stack.length > 0) {
    const part = stack.pop() as readonly T[];
    if (part.length === 0) continue;
    if (!split) {
      try {
        await insert(part);
        continue;
      } catch (failure) {
        if (!isDataRefusal(failure)) throw failure;
        if (part.length === 1) {
          refused.push({ item: part[0] as T, error: failure });
          continue;
        }
      }
    }
    split = false;
    const middle = part.length >>> 1;
    stack.push(part.slice(middle), part.slice(0, middle));
  }
  return refused;
}
