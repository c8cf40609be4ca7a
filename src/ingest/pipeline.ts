import type { Logger } from '../../kernel/logger.js';
import type { Metrics } from '../metrics.js';
import { retry } from '../../kernel/retry.js';
import type { EventStore } from '../store/event-store.js';
import { outcomeRow, predictionRow } from '../store/event-rows.js';
import { RowBytes } from '../store/row-bytes.js';
import { deadLetterMessage, type DeadLetterMessage, type DeadLetterSink } from './dead-letter.js';
import type { RecordDecoder } from './decoder.js';
import { GroupCommitBuffer } from './group-commit-buffer.js';
import { OffsetTrackers, type OffsetTracker } from './offset-tracker.js';
import { isPlainText, PlainRowWriter, type RowSource } from './plain-rows.js';
import type { InputRecord, RecordRef } from './record.js';
import { insertIsolatingRefused, isDataRefusal } from './refused-rows.js';
import type { Rejection } from '../events/types.js';
import type { DriftguardError } from '../../kernel/errors.js';

const NEWLINE = 0x0a;

export interface IngestPipelineOptions {
  readonly maxBatchRows: number;
  readonly maxBufferBytes: number;
  readonly flushIntervalMs: number;
  readonly retryInitialDelayMs: number;
  readonly retryMaxDelayMs: number;
}

export interface IngestPipelineDeps {
  /** Decoder per input topic. */
  readonly decoders: ReadonlyMap<string, RecordDecoder>;
  readonly store: EventStore;
  readonly deadLetters: DeadLetterSink;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Aborted at shutdown: stops retrying a dead store so the process can exit. */
  readonly signal?: AbortSignal;
  /** Reports store health changes (for /readyz). */
  readonly onStoreHealth?: (error: Error | undefined) => void;
}

/** What a processed batch lets the consumer commit: partition → next offset to read. */
export type Commits = Map<string, { topic: string; partition: number; offset: string }>;

/** A batch whose rows are queued for storing. */
export interface SubmittedBatch {
  /**
   * Resolves, in submission order, once everything the batch produced is stored and its dead
   * letters are sent, with the commits that makes safe. Rejects if storing was abandoned
   * (shutdown, or a store error that is not transient); every later batch then rejects too, until
   * `reset`, so that no commit ever skips a batch that was not stored.
   */
  readonly stored: Promise<Commits>;
}

/**
 * One batch's rows, serialised: its JSONEachRow lines as one Buffer per table, outside the heap.
 * A batch's thousands of lines as strings would each outlive a few young-generation collections
 * while they wait for the insert, and be copied into the old one.
 *
 * Each row's end and record are kept too (two numbers a row), and the batch's records stay
 * referenced until the rows are stored: should the store refuse a row, its record is found and
 * dead-lettered with the store's reason while every other row is stored (see storeAroundRefused).
 */
interface RowChunk {
  readonly predictions: Buffer;
  readonly predictionRows: number;
  readonly outcomes: Buffer;
  readonly outcomeRows: number;
  readonly records: readonly InputRecord[];
  readonly predictionRowsOf: RowIndex;
  readonly outcomeRowsOf: RowIndex;
  /** Records accepted by the decoders, by topic: counted once their rows are stored. */
  readonly accepted: Map<string, number>;
}

/** Where each row of one table ends in its Buffer, and which record (index into `records`) made it. */
interface RowIndex {
  readonly ends: number[];
  readonly records: number[];
}

/** One row of a group, located for isolating a refusal. */
interface LocatedRow {
  readonly chunk: RowChunk;
  readonly record: number;
  readonly bytes: Buffer;
}

/** Per partition of a batch: its tracker when the batch was decoded, and the batch's last offset. */
interface BatchPartition {
  readonly topic: string;
  readonly partition: number;
  readonly tracker: OffsetTracker;
  lastOffset: string;
}

/**
 * The pure-ish heart of ingest: decode records, store what is valid, dead-letter what is not,
 * and say which offsets are now safe to commit. Knows nothing of kafkajs; the Kafka consumer
 * adapter feeds it batches and commits what it returns.
 */
export class IngestPipeline {
  private readonly buffer: GroupCommitBuffer<RowChunk>;
  private trackers = new OffsetTrackers();
  private readonly now: () => number;
  /** The last submitted batch's completion: batches complete in submission order. */
  private tail: Promise<unknown> = Promise.resolve();
  /** Scratch space a batch's rows are written into (decoding never awaits, so one of each). */
  private readonly predictionBytes = new RowBytes();
  private readonly outcomeBytes = new RowBytes();
  private readonly plainRows = new PlainRowWriter();

  constructor(
    private readonly options: IngestPipelineOptions,
    private readonly deps: IngestPipelineDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.buffer = new GroupCommitBuffer<RowChunk>({
      maxRows: options.maxBatchRows,
      maxBytes: options.maxBufferBytes,
      flushIntervalMs: options.flushIntervalMs,
      store: (chunks) => this.storeChunks(chunks),
    });
  }

  /**
   * Processes one batch and resolves once its rows are stored and its dead letters sent; returns
   * the commits this makes safe. Rejects only if storing was abandoned.
   */
  async processBatch(records: readonly InputRecord[]): Promise<Commits> {
    return (await this.submit(records)).stored;
  }

  /**
   * Decodes one batch and queues its rows for the next group insert. Resolves as soon as they are
   * queued, so the caller can fetch the next batch while this one is stored; waits first while the
   * buffer is full (backpressure). The batch's records must follow, per partition, those of every
   * batch submitted before it.
   */
  async submit(records: readonly InputRecord[]): Promise<SubmittedBatch> {
    this.buffer.enter();
    const deadLetters: DeadLetterMessage[] = [];
    const released: RecordRef[] = [];
    const partitions: BatchPartition[] = [];
    const predictions = this.predictionBytes;
    const outcomes = this.outcomeBytes;
    let predictionRows = 0;
    let outcomeRows = 0;
    const predictionRowsOf: RowIndex = { ends: [], records: [] };
    const outcomeRowsOf: RowIndex = { ends: [], records: [] };
    const accepted = new Map<string, number>();
    let chunk: RowChunk;
    try {
      // Also lets batches handed over together all enter before any is decoded, so that the
      // buffer waits for all of them and stores them in one insert.
      await this.buffer.whenRoom();
      // From here to `take` nothing awaits: the scratch buffers hold this batch's rows only.
      const now = this.now();
      const source: RowSource = { prefix: '', offset: '', ingestedAt: String(Math.floor(now / 1000)) };
      let plainSource = false;
      let current: BatchPartition | undefined;
      let decoder: RecordDecoder | undefined;
      // Accepted records are counted per run of one topic, and reported once stored.
      let acceptedInRun = 0;
      const countRun = (): void => {
        if (current !== undefined && acceptedInRun > 0)
          accepted.set(current.topic, (accepted.get(current.topic) ?? 0) + acceptedInRun);
        acceptedInRun = 0;
      };
      const reject = (record: InputRecord, why: Rejection): void => {
        deadLetters.push(deadLetterMessage(record, why, now));
        this.deps.metrics.deadLettered.inc({ topic: record.topic, code: why.code });
        this.deps.metrics.ingestEvents.inc({ topic: record.topic, result: 'rejected' });
      };
      for (let index = 0; index < records.length; index++) {
        const record = records[index] as InputRecord;
        if (
          current === undefined ||
          current.partition !== record.partition ||
          current.topic !== record.topic
        ) {
          countRun();
          current = this.partitionOf(partitions, record.topic, record.partition);
          decoder = this.deps.decoders.get(record.topic);
          source.prefix = `${record.topic}/${record.partition}/`;
          plainSource = isPlainText(source.prefix);
        }
        current.lastOffset = record.offset;
        if (decoder === undefined) {
          // Cannot happen with a consistent config; dead-letter rather than lose or stall.
          deadLetters.push(
            deadLetterMessage(
              record,
              {
                code: 'unsupported_format',
                path: '$',
                message: `no decoder configured for topic ${record.topic}`,
              },
              now,
            ),
          );
          continue;
        }
        // A decoder that throws (a bug) costs its record, never the partition: rows it wrote are
        // taken back and the record is dead-lettered with the error.
        const predictionsBefore = predictions.length;
        const outcomesBefore = outcomes.length;
        let output: ReturnType<RecordDecoder['decode']>;
        try {
          // The fast lane: a plain native event's row, straight from its bytes.
          const value = record.value;
          const kind = value !== null && plainSource ? decoder.nativeKind?.(record) : undefined;
          if (kind !== undefined) {
            source.offset = record.offset;
            if (kind === 'prediction') {
              if (this.plainRows.writePrediction(value as Buffer, record.timestampMs, source, predictions)) {
                predictionRows++;
                predictionRowsOf.ends.push(predictions.length);
                predictionRowsOf.records.push(index);
                acceptedInRun++;
                continue;
              }
            } else if (this.plainRows.writeOutcome(value as Buffer, record.timestampMs, source, outcomes)) {
              outcomeRows++;
              outcomeRowsOf.ends.push(outcomes.length);
              outcomeRowsOf.records.push(index);
              acceptedInRun++;
              continue;
            }
          }
          output = decoder.decode(record, now);
          if (output.predictions.length > 0 || output.outcomes.length > 0) {
            const sourceText = source.prefix + record.offset;
            for (const event of output.predictions) {
              predictions.text(JSON.stringify(predictionRow(event, sourceText, now)));
              predictions.byte(NEWLINE);
              predictionRowsOf.ends.push(predictions.length);
              predictionRowsOf.records.push(index);
            }
            for (const event of output.outcomes) {
              outcomes.text(JSON.stringify(outcomeRow(event, sourceText, now)));
              outcomes.byte(NEWLINE);
              outcomeRowsOf.ends.push(outcomes.length);
              outcomeRowsOf.records.push(index);
            }
          }
        } catch (error) {
          predictions.length = predictionsBefore;
          outcomes.length = outcomesBefore;
          predictionRowsOf.ends.length = predictionRows;
          predictionRowsOf.records.length = predictionRows;
          outcomeRowsOf.ends.length = outcomeRows;
          outcomeRowsOf.records.length = outcomeRows;
          this.deps.logger.error(
            { err: error, topic: record.topic, partition: record.partition, offset: record.offset },
            'decoding a record failed; dead-lettering it',
          );
          reject(record, {
            code: 'decode_failed',
            path: '$',
            message: `driftguard failed to decode this record (${errorText(error)}); please report it with the record`,
          });
          continue;
        }
        predictionRows += output.predictions.length;
        outcomeRows += output.outcomes.length;
        if (output.rejection !== undefined) reject(record, output.rejection);
        else if (!output.held) acceptedInRun++;
        if (output.released) for (const ref of output.released) released.push(ref);
        if (output.held === true) current.tracker.hold(record.offset);
      }
      countRun();
      chunk = {
        predictions: predictions.take(),
        predictionRows,
        outcomes: outcomes.take(),
        outcomeRows,
        records,
        predictionRowsOf,
        outcomeRowsOf,
        accepted,
      };
    } catch (error) {
      predictions.clear();
      outcomes.clear();
      this.buffer.leave();
      throw error;
    }
    const bytes = chunk.predictions.length + chunk.outcomes.length;
    const rowsStored = this.buffer.add(chunk, predictionRows + outcomeRows, bytes);
    this.deps.metrics.bufferedRows.set(this.buffer.bufferedRows);
    const sent = deadLetters.length > 0 ? this.sendDeadLetters(deadLetters) : Promise.resolve();
    const own = Promise.all([rowsStored, sent]);
    // Not awaited when an earlier batch failed: that rejection is the one reported.
    own.catch(() => undefined);
    // In submission order: a batch's offsets count as stored only after every earlier batch's did.
    const stored = this.tail.then(() => own).then(() => this.complete(partitions, released, accepted));
    this.tail = stored;
    // The caller may await `stored` later, or never (shutdown): its rejection is not unhandled.
    stored.catch(() => undefined);
    return { stored };
  }

  /** Dead-letters held records whose partner never came; returns what that makes committable. */
  async expireHeld(): Promise<Commits> {
    const now = this.now();
    const messages: DeadLetterMessage[] = [];
    const expired: RecordRef[] = [];
    for (const [topic, decoder] of this.deps.decoders) {
      for (const item of decoder.expire?.(now) ?? []) {
        messages.push(deadLetterMessage(item.record, item.rejection, now));
        this.deps.metrics.deadLettered.inc({ topic, code: item.rejection.code });
        this.deps.metrics.ingestEvents.inc({ topic, result: 'rejected' });
        expired.push(item.record);
      }
    }
    if (messages.length > 0) await this.sendDeadLetters(messages);
    const commits: Commits = new Map();
    for (const ref of expired) this.releaseInto(commits, ref);
    this.updateHeldGauge();
    return commits;
  }

  /** After a rebalance: forget partitions we no longer own (their new owner replays them). */
  revoke(partitions: ReadonlyArray<{ topic: string; partition: number }>): void {
    for (const { topic, partition } of partitions) this.trackers.drop(topic, partition);
    for (const decoder of this.deps.decoders.values()) decoder.dropPartitions?.(partitions);
  }

  /**
   * After storing failed and consumption restarts from the committed offsets: forget all commit
   * points (batches still in flight commit nothing) and accept new batches again.
   */
  reset(): void {
    this.trackers = new OffsetTrackers();
    this.tail = Promise.resolve();
  }

  /** Stores everything queued and waits for it; rejections reach the batches' `stored`. */
  async drain(): Promise<void> {
    await this.buffer.drain();
    await this.tail.catch(() => undefined);
  }

  private partitionOf(partitions: BatchPartition[], topic: string, partition: number): BatchPartition {
    let entry = partitions.find((p) => p.partition === partition && p.topic === topic);
    if (entry === undefined) {
      entry = { topic, partition, tracker: this.trackers.for(topic, partition), lastOffset: '' };
      partitions.push(entry);
    }
    return entry;
  }

  /** A batch is stored: count it, advance its partitions' commit points and release what it paired. */
  private complete(
    partitions: readonly BatchPartition[],
    released: readonly RecordRef[],
    accepted: ReadonlyMap<string, number>,
  ): Commits {
    for (const [topic, count] of accepted)
      if (count > 0) this.deps.metrics.ingestEvents.inc({ topic, result: 'accepted' }, count);
    const commits: Commits = new Map();
    for (const { topic, partition, tracker, lastOffset } of partitions) {
      // A partition revoked (or reset) since the batch was decoded: its new owner replays it.
      if (!this.trackers.isCurrent(topic, partition, tracker)) continue;
      tracker.stored(lastOffset);
      const offset = tracker.committable();
      if (offset !== undefined) commits.set(`${topic}/${partition}`, { topic, partition, offset });
    }
    for (const ref of released) this.releaseInto(commits, ref);
    this.updateHeldGauge();
    this.deps.metrics.bufferedRows.set(this.buffer.bufferedRows);
    return commits;
  }

  private releaseInto(commits: Commits, ref: RecordRef): void {
    const tracker = this.trackers.get(ref.topic, ref.partition);
    if (tracker === undefined) return;
    tracker.release(ref.offset);
    const offset = tracker.committable();
    if (offset !== undefined)
      commits.set(`${ref.topic}/${ref.partition}`, { topic: ref.topic, partition: ref.partition, offset });
  }

  private updateHeldGauge(): void {
    let held = 0;
    for (const decoder of this.deps.decoders.values()) held += decoder.heldCount?.() ?? 0;
    this.deps.metrics.heldRecords.set(held);
  }

  /**
   * Stores a group's batches in one insert per table. Each batch's string is streamed as it is:
   * joining them first would copy the whole body (megabytes) once more per insert.
   */
  private async storeChunks(chunks: readonly RowChunk[]): Promise<void> {
    let predictionRows = 0;
    let outcomeRows = 0;
    const predictions: Buffer[] = [];
    const outcomes: Buffer[] = [];
    for (const chunk of chunks) {
      predictionRows += chunk.predictionRows;
      outcomeRows += chunk.outcomeRows;
      if (chunk.predictionRows > 0) predictions.push(chunk.predictions);
      if (chunk.outcomeRows > 0) outcomes.push(chunk.outcomes);
    }
    const stopTimer = this.deps.metrics.insertSeconds.startTimer();
    try {
      await this.retryForever('store batch', () => this.deps.store.insert({ predictions, outcomes }));
    } catch (error) {
      if (!isDataRefusal(error)) throw error;
      await this.storeAroundRefused(chunks, error);
      return;
    } finally {
      stopTimer();
    }
    this.deps.metrics.insertRows.inc({ table: 'predictions' }, predictionRows);
    this.deps.metrics.insertRows.inc({ table: 'outcomes' }, outcomeRows);
  }

  /**
   * The store refused a group's data: store its rows again in halves until the refused ones stand
   * alone, dead-letter their records with the store's reason and count them, and store the rest.
   * The group completes (and its offsets commit) once that is done.
   */
  private async storeAroundRefused(chunks: readonly RowChunk[], first: DriftguardError): Promise<void> {
    this.deps.logger.warn(
      { reason: first.message },
      'the store refused a group insert; isolating the rows it refuses',
    );
    const refused = new Map<RowChunk, Map<number, DriftguardError>>();
    for (const table of ['predictions', 'outcomes'] as const) {
      const rows = locateRows(chunks, table);
      const found = await insertIsolatingRefused(rows, (part) =>
        this.retryForever('store rows', () =>
          this.deps.store.insert({
            predictions: table === 'predictions' ? part.map((row) => row.bytes) : [],
            outcomes: table === 'outcomes' ? part.map((row) => row.bytes) : [],
          }),
        ),
      );
      this.deps.metrics.insertRows.inc({ table }, rows.length - found.length);
      for (const { item, error } of found) {
        const byRecord = refused.get(item.chunk) ?? new Map<number, DriftguardError>();
        refused.set(item.chunk, byRecord);
        if (!byRecord.has(item.record)) byRecord.set(item.record, error);
      }
    }
    const now = this.now();
    const messages: DeadLetterMessage[] = [];
    for (const [chunk, byRecord] of refused) {
      for (const [index, error] of byRecord) {
        const record = chunk.records[index] as InputRecord;
        messages.push(
          deadLetterMessage(
            record,
            {
              code: 'store_rejected',
              path: '$',
              message: `the store refused this record's row: ${error.message}`,
            },
            now,
          ),
        );
        this.deps.metrics.deadLettered.inc({ topic: record.topic, code: 'store_rejected' });
        this.deps.metrics.ingestEvents.inc({ topic: record.topic, result: 'rejected' });
        chunk.accepted.set(record.topic, (chunk.accepted.get(record.topic) ?? 0) - 1);
      }
    }
    this.deps.logger.warn(
      { deadLettered: messages.length, reason: first.message },
      'stored a refused group without the records the store refuses; dead-lettered those',
    );
    if (messages.length > 0) await this.sendDeadLetters(messages);
  }

  private async sendDeadLetters(messages: DeadLetterMessage[]): Promise<void> {
    await this.retryForever('dead-letter send', () => this.deps.deadLetters.send(messages), 'broker');
  }

  /**
   * Retries transient failures until they succeed or shutdown aborts: the data is still in
   * Kafka (uncommitted) and the consumer is paused behind us, so waiting loses nothing. Only the
   * store's own operations count as store retries and report store health: a dead letter sent
   * while ClickHouse is down must not say the store is back.
   */
  private async retryForever(
    what: string,
    operation: () => Promise<void>,
    target: 'store' | 'broker' = 'store',
  ): Promise<void> {
    let failing = false;
    const store = target === 'store';
    await retry(operation, {
      maxAttempts: Infinity,
      initialDelayMs: this.options.retryInitialDelayMs,
      maxDelayMs: this.options.retryMaxDelayMs,
      signal: this.deps.signal,
      onRetry: (error, attempt, delayMs) => {
        failing = true;
        if (store) {
          this.deps.metrics.storeRetries.inc();
          this.deps.metrics.storeUp.set(0);
          this.deps.onStoreHealth?.(error as Error);
        }
        this.deps.logger.warn(
          { err: error, attempt, delayMs, operation: what },
          'transient failure; retrying',
        );
      },
    });
    if (failing) this.deps.logger.info({ operation: what }, 'recovered');
    if (store) {
      this.deps.metrics.storeUp.set(1);
      this.deps.onStoreHealth?.(undefined);
    }
  }
}

/** The rows of `table` across a group's chunks, each as its own bytes (views, not copies). */
function locateRows(chunks: readonly RowChunk[], table: 'predictions' | 'outcomes'): LocatedRow[] {
  const rows: LocatedRow[] = [];
  for (const chunk of chunks) {
    const bytes = table === 'predictions' ? chunk.predictions : chunk.outcomes;
    const index = table === 'predictions' ? chunk.predictionRowsOf : chunk.outcomeRowsOf;
    let start = 0;
    for (let i = 0; i < index.ends.length; i++) {
      const end = index.ends[i] as number;
      rows.push({ chunk, record: index.records[i] as number, bytes: bytes.subarray(start, end) });
      start = end;
    }
  }
  return rows;
}

function errorText(error: unknown): string {
  return error instanceof Error
    ? `${error.name}: ${error.message}`.slice(0, 300)
    : String(error).slice(0, 300);
}
