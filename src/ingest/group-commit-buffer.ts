/**
 * Collects rows from partition batches and stores them in few large inserts (a group commit):
 * ClickHouse pays a fixed cost per insert (a new part per table and day partition), so one insert of
 * 20,000 rows costs it a fraction of what seven inserts of 3,000 cost.
 *
 * One insert runs at a time; rows added meanwhile wait in the pending group, so the next group is
 * decoded and collected while the previous one is stored (a pipeline two deep). The pending group
 * is handed to the store as soon as the store is free and
 * - every caller that `enter`ed has added its rows (nothing more is about to come), or
 * - it holds `maxRows` rows or `maxBytes` bytes, or
 * - its oldest row has waited `flushIntervalMs`.
 * Each `add` resolves once its rows are stored, or rejects if the store gave up.
 *
 * Memory is bounded: callers wait in `whenRoom` before they decode while the pending group holds
 * `maxRows` rows or the two groups together hold `maxBytes` bytes, so beyond the caps only the
 * batches of callers that already passed `whenRoom` are held.
 */
export interface GroupCommitOptions<Chunk> {
  readonly maxRows: number;
  readonly maxBytes: number;
  readonly flushIntervalMs: number;
  /** Stores one group; must retry transient failures itself and throw only when giving up. */
  readonly store: (chunks: Chunk[]) => Promise<void>;
}

interface Pending<Chunk> {
  chunks: Chunk[];
  rows: number;
  bytes: number;
  /** The oldest row has waited flushIntervalMs. */
  due: boolean;
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

export class GroupCommitBuffer<Chunk> {
  private pending: Pending<Chunk> | undefined;
  private active = 0;
  /** The insert in flight; never rejects (its callers see the outcome through `add`). */
  private storing: Promise<void> | undefined;
  private storingRows = 0;
  private storingBytes = 0;
  private roomWaiters: Array<() => void> = [];

  constructor(private readonly options: GroupCommitOptions<Chunk>) {}

  /** Declares a caller that will `add` soon: the pending group waits for it while below its caps. */
  enter(): void {
    this.active++;
  }

  /** A caller that entered but has nothing to add (or gave up) must leave. */
  leave(): void {
    this.active--;
    this.maybeFlush();
  }

  /** Rows added and not yet stored: the pending group and the one being stored. */
  get bufferedRows(): number {
    return (this.pending?.rows ?? 0) + this.storingRows;
  }

  /** Resolves once there is room (at once, on the next microtask, if there is). */
  async whenRoom(): Promise<void> {
    while (!this.hasRoom()) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
  }

  /**
   * Adds rows and resolves once they are stored. Leaves the caller's `enter` implicitly.
   * Rows beyond the caps still go in: a cap never drops data, it only makes the next caller wait.
   */
  add(chunk: Chunk, rows: number, bytes: number): Promise<void> {
    this.active--;
    if (rows === 0) {
      this.maybeFlush();
      return Promise.resolve();
    }
    const pending = this.pending ?? this.open();
    pending.chunks.push(chunk);
    pending.rows += rows;
    pending.bytes += bytes;
    this.maybeFlush();
    return pending.done;
  }

  /** Stores whatever is pending, whoever is still expected, and waits for every insert. */
  async drain(): Promise<void> {
    while (this.pending !== undefined || this.storing !== undefined) {
      if (this.storing === undefined) this.flush();
      await this.storing;
    }
  }

  private hasRoom(): boolean {
    const pending = this.pending;
    return (
      pending === undefined ||
      (pending.rows < this.options.maxRows && pending.bytes + this.storingBytes < this.options.maxBytes)
    );
  }

  private full(pending: Pending<Chunk>): boolean {
    return pending.rows >= this.options.maxRows || pending.bytes >= this.options.maxBytes;
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  private open(): Pending<Chunk> {
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers await `done`; a rejection nobody awaited yet must not crash the process.
    done.catch(() => undefined);
    const pending: Pending<Chunk> = {
      chunks: [],
      rows: 0,
      bytes: 0,
      due: false,
      done,
      resolve,
      reject,
      timer: undefined,
    };
    pending.timer = setTimeout(() => {
      pending.due = true;
      this.maybeFlush();
    }, this.options.flushIntervalMs);
    this.pending = pending;
    return pending;
  }

  private maybeFlush(): void {
    const pending = this.pending;
    if (pending === undefined || this.storing !== undefined) return;
    if (this.active <= 0 || pending.due || this.full(pending)) this.flush();
  }

  private flush(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    this.storingRows = pending.rows;
    this.storingBytes = pending.bytes;
    this.wakeRoomWaiters();
    // The store gets the only reference to the rows: they can be collected once it is done with them.
    const chunks = pending.chunks;
    pending.chunks = [];
    // One insert at a time, so groups reach the store in the order their rows were added.
    this.storing = this.options
      .store(chunks)
      .then(pending.resolve, (error: unknown) => pending.reject(error))
      .finally(() => {
        this.storing = undefined;
        this.storingRows = 0;
        this.storingBytes = 0;
        this.wakeRoomWaiters();
        this.maybeFlush();
      });
  }
}
