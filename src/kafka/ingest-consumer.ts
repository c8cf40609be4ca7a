import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { backoffDelayMs, defaultRetryOptions, sleep } from '../retry.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Commits, IngestPipeline } from '../ingest/pipeline.js';
import type { InputRecord } from '../ingest/record.js';

/** Consumer restarts after crashes kafkajs will not retry, within CRASH_WINDOW_MS, before giving up. */
const MAX_CRASH_RESTARTS = 5;
const CRASH_WINDOW_MS = 300_000;

export interface IngestConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly fromBeginning: boolean;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxBytesPerPartition: number;
  readonly partitionsConsumedConcurrently: number;
  /** How often held records (pairing) are checked for expiry. 0 disables. */
  readonly expireIntervalMs: number;
}

/**
 * The Kafka side of ingest. Pull-based backpressure: kafkajs fetches a partition again only after
 * `eachBatch` returns, and `eachBatch` returns only after the pipeline stored the batch, so a
 * slow or absent ClickHouse stops consumption instead of filling memory. Offsets are committed
 * after the store acknowledged (at-least-once); heartbeats continue while we wait.
 */
export class IngestConsumer {
  private readonly consumer: Consumer;
  private expireTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    kafka: Kafka,
    private readonly pipeline: IngestPipeline,
    private readonly options: IngestConsumerOptions,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly onCrash: (error: unknown, willRestart: boolean) => void,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: options.heartbeatIntervalMs,
      maxBytesPerPartition: options.maxBytesPerPartition,
      maxBytes: options.maxBytesPerPartition * Math.max(4, options.partitionsConsumedConcurrently),
      allowAutoTopicCreation: true,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      const assigned = event.payload.memberAssignment;
      this.logger.info({ assignment: assigned, leader: event.payload.isLeader }, 'joined consumer group');
      this.forgetUnassigned(assigned);
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.logger.error({ err: error, restart }, 'consumer crashed');
      if (restart || this.stopped) return this.onCrash(error, restart);
      // kafkajs gives up on errors it deems fatal, yet brokers answer group requests with such
      // errors during rebalances (seen: INVALID_REQUEST to SyncGroup while two members join).
      // Restart a few times with backoff before declaring the process failed.
      void this.restartAfterCrash(error);
    });
  }

  private owned = new Map<string, Set<number>>();

  private forgetUnassigned(assignment: Record<string, number[]>): void {
    const revoked: Array<{ topic: string; partition: number }> = [];
    for (const [topic, partitions] of this.owned) {
      const now = new Set(assignment[topic] ?? []);
      for (const partition of partitions) if (!now.has(partition)) revoked.push({ topic, partition });
    }
    if (revoked.length > 0) {
      this.logger.info({ revoked }, 'partitions revoked');
      this.pipeline.revoke(revoked);
    }
    this.owned = new Map(
      Object.entries(assignment).map(([topic, partitions]) => [topic, new Set(partitions)]),
    );
  }

  private crashRestarts: number[] = [];

  private async restartAfterCrash(error: unknown): Promise<void> {
    const now = Date.now();
    this.crashRestarts = this.crashRestarts.filter((at) => now - at < CRASH_WINDOW_MS);
    if (this.crashRestarts.length >= MAX_CRASH_RESTARTS) {
      this.onCrash(error, false);
      return;
    }
    this.crashRestarts.push(now);
    const delayMs = backoffDelayMs(this.crashRestarts.length, {
      ...defaultRetryOptions,
      initialDelayMs: 500,
    });
    this.logger.warn(
      { attempt: this.crashRestarts.length, delayMs },
      'restarting the consumer after a crash',
    );
    await sleep(delayMs);
    if (this.stopped) return;
    try {
      await this.run();
    } catch (restartError) {
      this.onCrash(restartError, false);
    }
  }

  async start(): Promise<void> {
    await this.run();
    this.scheduleExpiry();
    this.logger.info({ topics: this.options.topics, groupId: this.options.groupId }, 'consuming');
  }

  private async run(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [...this.options.topics],
      fromBeginning: this.options.fromBeginning,
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    // kafkajs' payload functions are closures, but calling them through `payload` keeps that
    // assumption out of this code.
    const heartbeat = (): Promise<void> => payload.heartbeat();
    const isStale = (): boolean => payload.isStale();
    if (batch.messages.length === 0 || !payload.isRunning() || isStale()) return;
    const records: InputRecord[] = batch.messages.map((message) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
      headers: (message.headers ?? {}) as Record<string, Buffer | string | undefined>,
      timestampMs: Number(message.timestamp),
    }));
    const processing = this.pipeline.processBatch(records);
    const commits = await this.withHeartbeats(processing, heartbeat);
    // Advance the fetch position past the whole batch, held records included: they are in memory
    // and pinned by the commit point, which is what survives a restart.
    payload.resolveOffset(batch.lastOffset());
    const lag = Number(BigInt(batch.highWatermark) - BigInt(batch.lastOffset()) - 1n);
    this.metrics.consumerLag.set(
      { topic: batch.topic, partition: String(batch.partition) },
      Math.max(0, lag),
    );
    if (isStale()) return; // partition moved during the store: its new owner replays, copies collapse
    await this.commit(commits);
  }

  /**
   * Waits for `work` while keeping the group membership alive. The timer is cleared as soon as the
   * work settles: a pending one would keep the batch (and its fetch buffer) reachable for a whole
   * heartbeat interval after the batch is done.
   */
  private async withHeartbeats<T>(work: Promise<T>, heartbeat: () => Promise<void>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const schedule = (): void => {
      timer = setTimeout(() => {
        heartbeat()
          .catch((error: unknown) => {
            // A rebalance in progress; the batch finishes and is found stale before commit.
            this.logger.debug({ err: error }, 'heartbeat during store wait failed');
          })
          .finally(() => {
            if (!settled) schedule();
          });
      }, this.options.heartbeatIntervalMs);
    };
    schedule();
    try {
      return await work;
    } finally {
      settled = true;
      clearTimeout(timer);
    }
  }

  private async commit(commits: Commits): Promise<void> {
    if (commits.size === 0) return;
    try {
      await this.consumer.commitOffsets(
        [...commits.values()].map((c) => ({ topic: c.topic, partition: c.partition, offset: c.offset })),
      );
    } catch (error) {
      // Not fatal: an uncommitted offset is replayed later and its rows collapse in the store.
      this.logger.warn({ err: error }, 'offset commit failed; records will be replayed');
    }
  }

  private scheduleExpiry(): void {
    if (this.options.expireIntervalMs <= 0 || this.stopped) return;
    this.expireTimer = setTimeout(() => {
      this.pipeline
        .expireHeld()
        .then((commits) => this.commit(commits))
        .catch((error: unknown) => this.logger.warn({ err: error }, 'expiring held records failed'))
        .finally(() => this.scheduleExpiry());
    }, this.options.expireIntervalMs);
  }

  /** Stops fetching, lets the batch in progress finish (stored + committed), leaves the group. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.expireTimer);
    await this.consumer.disconnect();
  }
}
