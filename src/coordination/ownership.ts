import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../../kernel/logger.js';
import { retry } from '../../kernel/retry.js';

/**
 * Which models this replica evaluates. Every replica joins a second consumer group
 * (`<group>-coordination`) on a small coordination topic; Kafka's group protocol assigns each
 * partition to exactly one live member, and a replica owns model m iff it holds partition
 * hash(m) mod N, N = the topic's partition count read from metadata. When a replica dies its
 * session times out, the group rebalances and a survivor takes its partitions — no home-made
 * lock. Nothing is ever produced to or committed on the topic except one record that creates it.
 */
export interface OwnershipOptions {
  readonly topic: string;
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
}

export class ModelOwnership {
  private consumer: Consumer | undefined;
  private partitions = 0;
  private owned = new Set<number>();
  private generation = 0;
  /** Aborted at stop: ends a restart in progress. */
  private readonly stopping = new AbortController();
  private restarting = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: OwnershipOptions,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    // The mock broker cannot create topics through the admin API; producing creates it.
    const producer = this.kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      await producer.send({ topic: this.options.topic, messages: [{ key: 'init', value: 'coordination' }] });
    } finally {
      await producer.disconnect();
    }
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [this.options.topic] });
      this.partitions = metadata.topics[0]?.partitions.length ?? 0;
    } finally {
      await admin.disconnect();
    }
    if (this.partitions === 0) throw new Error(`coordination topic ${this.options.topic} has no partitions`);
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: this.options.sessionTimeoutMs,
      heartbeatInterval: this.options.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(this.options.sessionTimeoutMs, 5_000),
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assigned = event.payload.memberAssignment[this.options.topic] ?? [];
      this.owned = new Set(assigned);
      this.generation++;
      this.logger.info(
        {
          partitions: [...this.owned].sort((a, b) => a - b),
          of: this.partitions,
          memberId: event.payload.memberId,
        },
        'coordination partitions assigned',
      );
    });
    consumer.on(consumer.events.CRASH, (event) => {
      this.owned = new Set();
      const { error, restart } = event.payload;
      this.logger.warn(
        { err: error, restart },
        'coordination consumer crashed; owning no models until it rejoins',
      );
      // kafkajs gives up on errors it deems fatal, yet brokers answer group requests with such
      // errors while members join (seen: INVALID_REQUEST to SyncGroup). A replica that stayed out
      // of the group would evaluate nothing, silently: rejoin until stopped.
      if (!restart)
        this.rejoin().catch((rejoinError: unknown) =>
          this.logger.error({ err: rejoinError }, 'coordination consumer could not rejoin'),
        );
    });
    await this.run();
  }

  private async run(): Promise<void> {
    const consumer = this.consumer as Consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [this.options.topic], fromBeginning: false });
    // The consumer only has to stay in the group; records are ignored.
    await consumer.run({ autoCommit: false, eachMessage: () => Promise.resolve() });
  }

  private async rejoin(): Promise<void> {
    if (this.restarting || this.stopping.signal.aborted) return;
    this.restarting = true;
    try {
      await retry(() => this.run(), {
        maxAttempts: Infinity,
        initialDelayMs: 500,
        maxDelayMs: 30_000,
        shouldRetry: () => true,
        signal: this.stopping.signal,
        onRetry: (error, attempt, delayMs) =>
          this.logger.warn(
            { err: error, attempt, delayMs },
            'coordination consumer could not rejoin; retrying',
          ),
      });
      this.logger.info('coordination consumer rejoined the group');
    } catch (error) {
      if (!this.stopping.signal.aborted)
        this.logger.error({ err: error }, 'coordination consumer gave up rejoining');
    } finally {
      this.restarting = false;
    }
  }

  /** True when this replica currently evaluates `model`. */
  owns(model: string): boolean {
    return this.partitions > 0 && this.owned.has(partitionOf(model, this.partitions));
  }

  get assignment(): { partitions: number; owned: number[]; generation: number } {
    return {
      partitions: this.partitions,
      owned: [...this.owned].sort((a, b) => a - b),
      generation: this.generation,
    };
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.owned = new Set();
    await this.consumer?.disconnect();
  }
}

/** FNV-1a 32-bit of the model name, mod N: stable across replicas and versions. */
export function partitionOf(model: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(model, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
