/**
 * Collects rows from concurrently processed partition batches and stores them in one insert
 * (a group commit), because ClickHouse wants few large inserts. Each caller awaits the flush that
 * carries its rows, so it commits its offsets only after the store acknowledged them.
 *
 * A flush starts when every active caller has added its rows, when the buffer reaches its row
 * or byte cap, or when the oldest row has waited `flushIntervalMs`. Callers cannot add more
 * while they wait, so memory is bounded by (concurrent batches × batch size) and by the caps.
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
  waiters: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

export class GroupCommitBuffer<Chunk> {
  private pending: Pending<Chunk> | undefined;
  private active = 0;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly options: GroupCommitOptions<Chunk>) {}

  /** Declares a caller that will `add` soon; lets the buffer know when everyone is waiting. */
  enter(): void {
    this.active++;
  }

  /** A caller that entered but has nothing to add (or gave up) must leave. */
  leave(): void {
    this.active--;
    this.maybeFlushAll();
  }

  get bufferedRows(): number {
    return this.pending?.rows ?? 0;
  }

  /**
   * Adds rows and resolves once they are stored. Leaves the caller's `enter` implicitly.
   * Rows larger than the caps still go in (in their own flush): a cap never drops data.
   */
  add(chunk: Chunk, rows: number, bytes: number): Promise<void> {
    this.active--;
    if (rows === 0) {
      this.maybeFlushAll();
      return Promise.resolve();
    }
    if (
      this.pending &&
      (this.pending.rows + rows > this.options.maxRows || this.pending.bytes + bytes > this.options.maxBytes)
    ) {
      this.flushNow();
    }
    const pending = this.pending ?? this.open();
    pending.chunks.push(chunk);
    pending.rows += rows;
    pending.bytes += bytes;
    pending.waiters++;
    const done = pending.done;
    if (pending.rows >= this.options.maxRows || pending.bytes >= this.options.maxBytes) this.flushNow();
    else this.maybeFlushAll();
    return done;
  }

  /** Flushes whatever is buffered and waits for every flush in progress. */
  async drain(): Promise<void> {
    this.flushNow();
    await this.flushing.catch(() => undefined);
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
      waiters: 0,
      done,
      resolve,
      reject,
      timer: undefined,
    };
    pending.timer = setTimeout(() => {
      if (this.pending === pending) this.flushNow();
    }, this.options.flushIntervalMs);
    this.pending = pending;
    return pending;
  }

  private maybeFlushAll(): void {
    if (this.pending && this.active <= 0) this.flushNow();
  }

  private flushNow(): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    // Flushes run one after another so that inserts reach the store in order.
    this.flushing = this.flushing
      .catch(() => undefined)
      .then(() => this.options.store(pending.chunks))
      .then(pending.resolve, (error: unknown) => {
        pending.reject(error);
      });
  }
}
