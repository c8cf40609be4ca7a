import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { retry } from '../retry.js';
import type { EventStore, SerializedRows } from '../store/event-store.js';
import { outcomeRow, predictionRow } from '../store/event-rows.js';
import { deadLetterMessage, type DeadLetterMessage, type DeadLetterSink } from './dead-letter.js';
import type { RecordDecoder } from './decoder.js';
import { GroupCommitBuffer } from './group-commit-buffer.js';
import { OffsetTrackers } from './offset-tracker.js';
import type { InputRecord, RecordRef } from './record.js';

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

/**
 * The pure-ish heart of ingest: decode records, store what is valid, dead-letter what is not,
 * and say which offsets are now safe to commit. Knows nothing of kafkajs; the Kafka consumer
 * adapter feeds it batches and commits what it returns.
 */
export class IngestPipeline {
  private readonly buffer: GroupCommitBuffer<SerializedRows>;
  private readonly trackers = new OffsetTrackers();
  private readonly now: () => number;

  constructor(
    private readonly options: IngestPipelineOptions,
    private readonly deps: IngestPipelineDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.buffer = new GroupCommitBuffer<SerializedRows>({
      maxRows: options.maxBatchRows,
      maxBytes: options.maxBufferBytes,
      flushIntervalMs: options.flushIntervalMs,
      store: (chunks) => this.storeChunks(chunks),
    });
  }

  /**
   * Processes one partition's batch. Resolves once its rows are stored and its dead letters
   * sent; returns the commits this makes safe. Rejects only if storing was abandoned (shutdown).
   */
  async processBatch(records: readonly InputRecord[]): Promise<Commits> {
    this.buffer.enter();
    const rows: SerializedRows = { predictions: [], outcomes: [] };
    const deadLetters: DeadLetterMessage[] = [];
    const released: RecordRef[] = [];
    let bytes = 0;
    let accepted = 0;
    const touched = new Set<string>();
    const now = this.now();
    try {
      for (const record of records) {
        const decoder = this.deps.decoders.get(record.topic);
        const tracker = this.trackers.for(record.topic, record.partition);
        touched.add(`${record.topic}/${record.partition}`);
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
          tracker.processed(record.offset);
          continue;
        }
        const output = decoder.decode(record, now);
        if (output.rejection !== undefined) {
          deadLetters.push(deadLetterMessage(record, output.rejection, now));
          this.deps.metrics.deadLettered.inc({ topic: record.topic, code: output.rejection.code });
          this.deps.metrics.ingestEvents.inc({ topic: record.topic, result: 'rejected' });
        } else if (!output.held) {
          this.deps.metrics.ingestEvents.inc({ topic: record.topic, result: 'accepted' });
        }
        const source = `${record.topic}/${record.partition}/${record.offset}`;
        for (const event of output.predictions) {
          const line = `${JSON.stringify(predictionRow(event, source, now))}\n`;
          rows.predictions.push(line);
          bytes += line.length;
          accepted++;
        }
        for (const event of output.outcomes) {
          const line = `${JSON.stringify(outcomeRow(event, source, now))}\n`;
          rows.outcomes.push(line);
          bytes += line.length;
          accepted++;
        }
        if (output.released) released.push(...output.released);
        tracker.processed(record.offset, output.held === true);
      }
    } catch (error) {
      this.buffer.leave();
      throw error;
    }
    const stored = this.buffer.add(rows, accepted, bytes);
    const sent = deadLetters.length > 0 ? this.sendDeadLetters(deadLetters) : Promise.resolve();
    await Promise.all([stored, sent]);
    for (const ref of released) {
      this.trackers.for(ref.topic, ref.partition).release(ref.offset);
      touched.add(`${ref.topic}/${ref.partition}`);
    }
    return this.commitsFor(touched);
  }

  /** Dead-letters held records whose partner never came; returns what that makes committable. */
  async expireHeld(): Promise<Commits> {
    const now = this.now();
    const messages: DeadLetterMessage[] = [];
    const touched = new Set<string>();
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
    for (const ref of expired) {
      this.trackers.for(ref.topic, ref.partition).release(ref.offset);
      touched.add(`${ref.topic}/${ref.partition}`);
    }
    this.updateHeldGauge();
    return this.commitsFor(touched);
  }

  /** After a rebalance: forget partitions we no longer own (their new owner replays them). */
  revoke(partitions: ReadonlyArray<{ topic: string; partition: number }>): void {
    for (const { topic, partition } of partitions) this.trackers.drop(topic, partition);
    for (const decoder of this.deps.decoders.values()) decoder.dropPartitions?.(partitions);
  }

  async drain(): Promise<void> {
    await this.buffer.drain();
  }

  private commitsFor(keys: Set<string>): Commits {
    const commits: Commits = new Map();
    for (const key of keys) {
      const slash = key.lastIndexOf('/');
      const topic = key.slice(0, slash);
      const partition = Number(key.slice(slash + 1));
      const offset = this.trackers.for(topic, partition).committable();
      if (offset !== undefined) commits.set(key, { topic, partition, offset });
    }
    this.updateHeldGauge();
    return commits;
  }

  private updateHeldGauge(): void {
    let held = 0;
    for (const decoder of this.deps.decoders.values()) held += decoder.heldCount?.() ?? 0;
    this.deps.metrics.heldRecords.set(held);
  }

  private async storeChunks(chunks: SerializedRows[]): Promise<void> {
    const merged: SerializedRows = { predictions: [], outcomes: [] };
    for (const chunk of chunks) {
      for (const line of chunk.predictions) merged.predictions.push(line);
      for (const line of chunk.outcomes) merged.outcomes.push(line);
    }
    this.deps.metrics.bufferedRows.set(merged.predictions.length + merged.outcomes.length);
    const stopTimer = this.deps.metrics.insertSeconds.startTimer();
    await this.retryForever('store batch', () => this.deps.store.insert(merged));
    stopTimer();
    this.deps.metrics.bufferedRows.set(0);
    this.deps.metrics.insertRows.inc({ table: 'predictions' }, merged.predictions.length);
    this.deps.metrics.insertRows.inc({ table: 'outcomes' }, merged.outcomes.length);
  }

  private async sendDeadLetters(messages: DeadLetterMessage[]): Promise<void> {
    await this.retryForever('dead-letter send', () => this.deps.deadLetters.send(messages));
  }

  /**
   * Retries transient failures until they succeed or shutdown aborts: the data is still in
   * Kafka (uncommitted) and the consumer is paused behind us, so waiting loses nothing.
   */
  private async retryForever(what: string, operation: () => Promise<void>): Promise<void> {
    let failing = false;
    await retry(operation, {
      maxAttempts: Infinity,
      initialDelayMs: this.options.retryInitialDelayMs,
      maxDelayMs: this.options.retryMaxDelayMs,
      signal: this.deps.signal,
      onRetry: (error, attempt, delayMs) => {
        failing = true;
        this.deps.metrics.storeRetries.inc();
        this.deps.metrics.storeUp.set(0);
        this.deps.onStoreHealth?.(error as Error);
        this.deps.logger.warn(
          { err: error, attempt, delayMs, operation: what },
          'transient failure; retrying',
        );
      },
    });
    if (failing) this.deps.logger.info({ operation: what }, 'recovered');
    this.deps.metrics.storeUp.set(1);
    this.deps.onStoreHealth?.(undefined);
  }
}
