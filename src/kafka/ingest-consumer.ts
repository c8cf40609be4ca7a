import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { backoffDelayMs, defaultRetryOptions, sleep } from '../../kernel/retry.js';
import type { Logger } from '../../kernel/logger.js';
import type { Metrics } from '../metrics.js';
import { isRefused, soleOwnerAssigner } from './sole-owner-assigner.js';
import type { Commits, IngestPipeline, SubmittedBatch } from '../ingest/pipeline.js';
import type { InputRecord } from '../ingest/record.js';
import { DriftguardError, errorMessage } from '../../kernel/errors.js';

/** Consumer restarts after crashes kafkajs will not retry, within CRASH_WINDOW_MS, before giving up. */
const MAX_CRASH_RESTARTS = 5;
const CRASH_WINDOW_MS = 300_000;

/**
 * How long a fetch may wait at the broker when there is nothing to read. kafkajs' default (5 s)
 * is the latency after an idle spell wherever a broker answers an empty fetch only when the wait
 * is over (librdkafka's mock cluster does, even when data arrives meanwhile); librdkafka itself
 * waits 500 ms. Fetches have their own connection in kafkajs, so commits never queue behind one.
 * The cost of a short wait is an empty fetch every 100 ms per broker while idle.
 */
export const DEFAULT_FETCH_MAX_WAIT_MS = 100;

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
  /** See {@link DEFAULT_FETCH_MAX_WAIT_MS}. @default 100 */
  readonly fetchMaxWaitMs?: number;
  /**
   * This daemon must be the group's only consumer (it stores in its embedded engine): the member
   * that started first keeps every partition, a later one is refused (see sole-owner-assigner.ts).
   */
  readonly soleOwner?: { readonly startedAtMs: number };
  /**
   * The consumer counts as stalled (not ready, `driftguard_consumer_stalled` 1) when records wait
   * and no offset was committed for this long. @default 60000
   */
  readonly stallAfterMs?: number;
  /** Injected for tests. @default Date.now */
  readonly now?: () => number;
}

/** Whether the consumer makes progress, and why not. */
export interface ConsumerProgress {
  readonly ok: boolean;
  readonly reason?: string;
}

/** How often progress is checked (gauge and state-change logs). */
const WATCHDOG_INTERVAL_MS = 1_000;

/**
 * The Kafka side of ingest. Pull-based backpressure: kafkajs fetches again only after every
 * `eachBatch` of the previous fetch returned, and `eachBatch` returns once the pipeline has queued
 * the batch's rows, which it does only while its buffer has room, so a slow or absent ClickHouse
 * stops consumption instead of filling memory. Queuing rather than storing lets the next fetch and
 * its decoding overlap the insert in flight.
 *
 * Offsets are committed only after the store acknowledged their batch (at-least-once), in the
 * order the batches were consumed, one commit request at a time. Should storing fail for good, no
 * later batch commits and consumption restarts from the committed offsets, so nothing is skipped.
 * Heartbeats continue while a batch waits for room.
 */
export class IngestConsumer {
  private readonly consumer: Consumer;
  private expireTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** `eachBatch` calls under way, awaited at stop. */
  private readonly handling = new Set<Promise<void>>();
  /** Commits waiting for the one in flight; later offsets of a partition replace earlier ones. */
  private commitQueue: Commits = new Map();
  private committing: Promise<void> | undefined;
  /** Set when storing a batch failed for good; consumption restarts from the committed offsets. */
  private storeFailure: unknown;
  /** Counts those restarts: failures of batches from before one are already dealt with. */
  private generation = 0;
  /** The restart under way; restarts run one at a time (kafkajs refuses a second `run`). */
  private restarting: Promise<void> | undefined;
  /** Whether the restart under way has called `run` already. */
  private restartStartedConsumer = false;
  /** A restart asked for while one was under way that it cannot fold in: it runs after it. */
  private restartAgain: { error: unknown; prepare: (() => Promise<void>) | undefined } | undefined;
  /** Set while a restart has not yet brought the consumer back. */
  private restartReason: string | undefined;
  /** Per partition: the high watermark last seen and the offset committed (or fetched from). */
  private readonly positions = new Map<
    string,
    { topic: string; partition: number; highWatermark: bigint; committed: bigint }
  >();
  private lastProgressAtMs: number;
  private watchdog: NodeJS.Timeout | undefined;
  private stalled = false;
  private readonly now: () => number;

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
      maxWaitTimeInMs: options.fetchMaxWaitMs ?? DEFAULT_FETCH_MAX_WAIT_MS,
      allowAutoTopicCreation: true,
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 10_000 },
      ...(options.soleOwner === undefined
        ? {}
        : { partitionAssigners: [soleOwnerAssigner(options.soleOwner.startedAtMs)] }),
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      const assigned = event.payload.memberAssignment;
      this.logger.info({ assignment: assigned, leader: event.payload.isLeader }, 'joined consumer group');
      if (this.options.soleOwner !== undefined && isRefused(assigned)) this.refuse();
      this.forgetUnassigned(assigned);
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.logger.error({ err: error, restart }, 'consumer crashed');
      if (restart || this.stopped) return this.onCrash(error, restart);
      // kafkajs gives up on errors it deems fatal, yet brokers answer group requests with such
      // errors during rebalances (seen: INVALID_REQUEST to SyncGroup while two members join).
      // Restart a few times with backoff before declaring the process failed.
      this.requestRestart(error);
    });
    this.now = options.now ?? Date.now;
    this.lastProgressAtMs = this.now();
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
      for (const { topic, partition } of revoked) {
        this.positions.delete(`${topic}/${partition}`);
        this.metrics.consumerLag.remove({ topic, partition: String(partition) });
      }
    }
    this.owned = new Map(
      Object.entries(assignment).map(([topic, partitions]) => [topic, new Set(partitions)]),
    );
  }

  private crashRestarts: number[] = [];

  /**
   * Restarts the consumer after `error`, one restart at a time. A request that arrives while a
   * restart is under way is folded into it when that restart has not started the consumer yet (it
   * will start a fresh one), and runs after it otherwise: two crashes close together never start
   * two consumers, which kafkajs refuses ("Cannot subscribe to topic while consumer is running").
   * `prepare` (stopping after a store failure) runs first, inside the same turn.
   */
  private requestRestart(error: unknown, prepare?: () => Promise<void>): void {
    this.restartReason ??= errorText(error);
    if (this.restarting !== undefined) {
      if (prepare !== undefined || this.restartStartedConsumer)
        this.restartAgain = { error, prepare: prepare ?? this.restartAgain?.prepare };
      else this.logger.info({ err: error }, 'a consumer restart is already under way; not starting another');
      return;
    }
    this.restarting = this.restartAfterCrash(error, prepare)
      .catch((restartError: unknown) => this.onCrash(restartError, false))
      .finally(() => {
        this.restarting = undefined;
        const again = this.restartAgain;
        this.restartAgain = undefined;
        if (again !== undefined && !this.stopped) this.requestRestart(again.error, again.prepare);
      });
  }

  private async restartAfterCrash(error: unknown, prepare?: () => Promise<void>): Promise<void> {
    this.restartStartedConsumer = false;
    const now = Date.now();
    this.crashRestarts = this.crashRestarts.filter((at) => now - at < CRASH_WINDOW_MS);
    if (this.crashRestarts.length >= MAX_CRASH_RESTARTS) {
      this.onCrash(error, false);
      return;
    }
    this.crashRestarts.push(now);
    this.metrics.consumerRestarts.inc();
    const delayMs = backoffDelayMs(this.crashRestarts.length, {
      ...defaultRetryOptions,
      initialDelayMs: 500,
    });
    this.logger.warn(
      { attempt: this.crashRestarts.length, delayMs },
      'restarting the consumer after a crash',
    );
    await prepare?.();
    await sleep(delayMs);
    if (this.stopped) return;
    // Whatever state the last crash left kafkajs in, start from a stopped consumer.
    await this.consumer.stop();
    this.restartStartedConsumer = true;
    await this.run();
    this.restartReason = undefined;
  }

  /** Set when the group already has its one consumer (an embedded store's daemon). */
  private refusal: DriftguardError | undefined;

  private refuse(): void {
    if (this.refusal !== undefined) return;
    this.refusal = new DriftguardError(
      'CONFIG_INVALID',
      `consumer group ${this.options.groupId} already has a member that holds every partition: an embedded store serves one replica only. Run several replicas against a shared ClickHouse server (set DRIFTGUARD_CLICKHOUSE_URL on every replica), or give this daemon its own consumer group (DRIFTGUARD_CONSUMER_GROUP)`,
      { retriable: false, details: { groupId: this.options.groupId } },
    );
    this.onCrash(this.refusal, false);
  }

  async start(): Promise<void> {
    await this.run();
    if (this.refusal !== undefined) throw this.refusal;
    this.scheduleExpiry();
    this.lastProgressAtMs = this.now();
    this.scheduleWatchdog();
    this.logger.info({ topics: this.options.topics, groupId: this.options.groupId }, 'consuming');
  }

  /**
   * Whether the consumer makes progress: not while it restarts after a failure, nor while records
   * wait (lag) and no offset was committed for `stallAfterMs`.
   */
  progress(): ConsumerProgress {
    if (this.restartReason !== undefined)
      return {
        ok: false,
        reason: `the consumer is restarting after a failure (${this.restartReason}); it reads again from the committed offsets`,
      };
    const waiting = this.lagTotal();
    const idleMs = this.now() - this.lastProgressAtMs;
    const stallAfterMs = this.options.stallAfterMs ?? 60_000;
    if (waiting > 0 && idleMs >= stallAfterMs)
      return {
        ok: false,
        reason: `${waiting} records wait and no offset was committed for ${Math.round(idleMs / 1000)} s (ingest.stallAfterMs ${stallAfterMs})`,
      };
    return { ok: true };
  }

  /** Records between the committed offsets and the high watermarks, over every owned partition. */
  private lagTotal(): number {
    let total = 0n;
    for (const position of this.positions.values())
      if (position.highWatermark > position.committed) total += position.highWatermark - position.committed;
    return Number(total);
  }

  private scheduleWatchdog(): void {
    if (this.stopped) return;
    this.watchdog = setTimeout(() => {
      const progress = this.progress();
      const stalled = !progress.ok;
      this.metrics.consumerStalled.set(stalled ? 1 : 0);
      if (stalled !== this.stalled) {
        this.stalled = stalled;
        if (stalled) this.logger.warn({ reason: progress.reason }, 'ingest cannot make progress');
        else this.logger.info('ingest makes progress again');
      }
      this.scheduleWatchdog();
    }, WATCHDOG_INTERVAL_MS);
    this.watchdog.unref();
  }

  /**
   * Updates a partition's position and its lag gauge (records not yet committed). `fetchedFrom`
   * stands in for the commit point of a partition this process has not committed yet.
   */
  private track(
    topic: string,
    partition: number,
    update: { highWatermark?: bigint; committed?: bigint; fetchedFrom?: bigint },
  ): void {
    const key = `${topic}/${partition}`;
    let position = this.positions.get(key);
    if (position === undefined) {
      const start = update.committed ?? update.fetchedFrom;
      if (start === undefined) return;
      position = { topic, partition, highWatermark: start, committed: start };
      this.positions.set(key, position);
    }
    if (update.highWatermark !== undefined) position.highWatermark = update.highWatermark;
    if (update.committed !== undefined) position.committed = update.committed;
    const lag = position.highWatermark - position.committed;
    this.metrics.consumerLag.set({ topic, partition: String(partition) }, lag > 0n ? Number(lag) : 0);
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

  private eachBatch(payload: EachBatchPayload): Promise<void> {
    const handled = this.handleBatch(payload);
    this.handling.add(handled);
    const forget = (): void => void this.handling.delete(handled);
    handled.then(forget, forget);
    return handled;
  }

  private async handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    // kafkajs' payload functions are closures, but calling them through `payload` keeps that
    // assumption out of this code.
    const heartbeat = (): Promise<void> => payload.heartbeat();
    if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale() || this.stopped) return;
    // Unresolved, the batch is fetched again after the restart that the failure triggers.
    if (this.storeFailure !== undefined) return;
    const records: InputRecord[] = batch.messages.map((message) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: message.offset,
      key: message.key,
      value: message.value,
      headers: (message.headers ?? {}) as Record<string, Buffer | string | undefined>,
      timestampMs: Number(message.timestamp),
    }));
    const submitted = await this.withHeartbeats(this.pipeline.submit(records), heartbeat);
    // Advance the fetch position past the whole batch, held records included: they are in memory
    // and pinned by the commit point, which is what survives a restart.
    payload.resolveOffset(batch.lastOffset());
    // Lag counts what is not committed yet: a consumer that fetches but cannot store shows it.
    // Until this process commits a partition, its fetch position stands in for the commit point.
    this.track(batch.topic, batch.partition, {
      fetchedFrom: BigInt(batch.firstOffset() ?? batch.lastOffset()),
      highWatermark: BigInt(batch.highWatermark),
    });
    this.commitWhenStored(submitted);
  }

  private commitWhenStored(submitted: SubmittedBatch): void {
    const generation = this.generation;
    submitted.stored.then(
      (commits) => this.commit(commits),
      (error: unknown) => {
        if (generation === this.generation) this.onStoreFailure(error);
      },
    );
  }

  /**
   * Storing gave up (not at shutdown: a store error that is not transient). Batches after the
   * failed one commit nothing, so restart from the committed offsets, as after a crash.
   */
  private onStoreFailure(error: unknown): void {
    if (this.stopped || this.storeFailure !== undefined) return;
    this.storeFailure = error;
    this.logger.error({ err: error }, 'storing a batch failed; consuming again from the committed offsets');
    this.requestRestart(error, async () => {
      await this.quiesce();
      await this.consumer.stop();
      this.generation++;
      this.pipeline.reset();
      this.storeFailure = undefined;
    });
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
            // A rebalance in progress: the rejoin sorts it out; revoked partitions commit nothing.
            this.logger.debug({ err: error }, 'heartbeat while waiting for buffer room failed');
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

  /** Queues commits; one request is in flight at a time, so a partition's offsets never go back. */
  private commit(commits: Commits): Promise<void> {
    for (const [key, commit] of commits) this.commitQueue.set(key, commit);
    if (this.committing === undefined && this.commitQueue.size > 0) this.committing = this.sendCommits();
    return this.committing ?? Promise.resolve();
  }

  /** Sends the queue until it is empty; called with a non-empty queue, so it awaits before `finally`. */
  private async sendCommits(): Promise<void> {
    try {
      while (this.commitQueue.size > 0) {
        const commits = this.commitQueue;
        this.commitQueue = new Map();
        try {
          await this.consumer.commitOffsets(
            [...commits.values()].map((c) => ({ topic: c.topic, partition: c.partition, offset: c.offset })),
          );
          this.lastProgressAtMs = this.now();
          for (const c of commits.values()) this.track(c.topic, c.partition, { committed: BigInt(c.offset) });
        } catch (error) {
          // Not fatal: an uncommitted offset is replayed later and its rows collapse in the store.
          this.logger.warn({ err: error }, 'offset commit failed; records will be replayed');
        }
      }
    } finally {
      this.committing = undefined;
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

  /**
   * Stops fetching, stores and commits what was consumed while still a group member, then leaves
   * the group. What cannot be stored in time (forced stop) stays uncommitted and is read again.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.expireTimer);
    clearTimeout(this.watchdog);
    await this.quiesce();
    await this.consumer.disconnect();
  }

  /** Stops fetching, waits for the batches under way, stores what is queued and commits it. */
  private async quiesce(): Promise<void> {
    try {
      this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
    } catch (error) {
      // Not running (never started, or crashed): nothing is fetched anyway.
      this.logger.debug({ err: error }, 'pausing the consumer failed');
    }
    await Promise.all(this.handling);
    await this.pipeline.drain();
    await this.committing;
  }
}

/** A failure in words fit for /readyz: a store error's public message (no database text). */
function errorText(error: unknown): string {
  const text = error instanceof DriftguardError ? error.publicMessage : errorMessage(error);
  return text.split('\n')[0]?.slice(0, 300) ?? '';
}
