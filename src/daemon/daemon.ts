import type { AddressInfo } from 'node:net';
import type { Admin, Kafka } from 'kafkajs';
import type { CompiledConfig } from '../config/compile.js';
import { DriftguardError, errorMessage, publicErrorMessage } from '../../kernel/errors.js';
import { ingestRoutes } from '../http/ingest-routes.js';
import { createHttpApp, type ReadinessCheck } from '../http/app.js';
import { HttpServer } from '../http/server.js';
import type { RecordDecoder } from '../ingest/decoder.js';
import {
  createDecoder,
  createDecoderRuntime,
  createHttpCloudEventIngest,
  type DecoderOptionsInput,
  type DecoderRuntime,
  type InputFormat,
} from '../decoders/index.js';
import { cloudEventsRoute } from '../http/cloudevents-route.js';
import { BodyBudget, bodyBudget } from '../http/body-budget.js';
import { Alerting } from '../alerts/index.js';
import { IngestPipeline } from '../ingest/pipeline.js';
import { createKafka } from '../kafka/client.js';
import { KafkaDeadLetterSink } from '../kafka/dead-letter-producer.js';
import { IngestConsumer } from '../kafka/ingest-consumer.js';
import type { Logger } from '../../kernel/logger.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { retry } from '../../kernel/retry.js';
import type { Store } from '../../kernel/store.js';
import { createEventStore, type EventStore } from '../store/event-store.js';
import { describeStore } from '../store/open-store.js';
import { migrate } from '../../kernel/migrations.js';
import { ALL_MIGRATIONS } from '../store/schema.js';
import { dropExpiredPartitions } from '../store/retention.js';
import { RepeatingTask, type DaemonState } from './lifecycle.js';
import { hostname } from 'node:os';
import { ModelOwnership } from '../coordination/ownership.js';
import { createMonitorMetrics, Monitor, monitorSources } from '../monitor/monitor.js';
import { monitorReadRoutes, monitorWriteRoutes } from '../http/monitor-routes.js';
import { performanceRoutes } from '../http/performance-routes.js';
import { EstimationStore } from '../monitor/estimation/estimation-store.js';
import { modelSettings } from '../monitor/options.js';
import { openApiRoute } from '../http/openapi.js';
import { retuneRoutes } from '../http/retune-routes.js';
import type { Express } from 'express';
import type { Retuner } from '../../retune/index.js';
import { createRetuneWiring, type RetuneWiring } from './retune-wiring.js';
import { DRIFTGUARD_VERSION } from '../version.js';

export interface DaemonEvents {
  /** A failure the daemon cannot recover from by itself; the process should exit non-zero. */
  onFatal?: (error: unknown) => void;
}

/**
 * The daemon: wires the components and owns their lifecycle. Start order puts the HTTP server
 * first (so /healthz and /readyz answer while the rest starts); stop order reverses it, draining
 * ingest before anything it writes to is closed.
 */
export class Daemon {
  private state: DaemonState = 'created';
  readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly events: EventStore;
  private readonly kafka: Kafka;
  private readonly deadLetters: KafkaDeadLetterSink;
  private readonly pipeline: IngestPipeline;
  private readonly consumer: IngestConsumer;
  private readonly http: HttpServer;
  private readonly retention: RepeatingTask;
  private readonly monitorTask: RepeatingTask;
  private readonly ownership: ModelOwnership;
  readonly monitor: Monitor;
  private readonly decoderRuntime: DecoderRuntime;
  readonly alerting: Alerting;
  private readonly retune: RetuneWiring;
  /** The express app (routes), exposed for the OpenAPI conformance test. */
  readonly app: Express;
  private readonly abort = new AbortController();
  private admin: Admin | undefined;
  private ingestStoreError: Error | undefined;
  private stopping: Promise<void> | undefined;
  private boundAddress: AddressInfo | undefined;

  /**
   * `store` is the opened storage port (see openStore); the daemon owns it from here on and
   * closes it last when it stops.
   */
  constructor(
    private readonly config: CompiledConfig,
    rootLogger: Logger,
    private readonly store: Store,
    private readonly hooks: DaemonEvents = {},
  ) {
    this.logger = rootLogger.child({ component: 'daemon' });
    this.metrics = createMetrics();
    // The ledger tells the rollups (of whichever replica monitors) which minutes changed.
    this.events = createEventStore(store, { ledger: config.monitoring.rollups.enabled });
    this.kafka = createKafka(config.kafka, rootLogger.child({ component: 'kafka' }));
    this.deadLetters = new KafkaDeadLetterSink(this.kafka, config.kafka.topics.deadLetter);

    const { topics } = config.kafka;
    // One runtime for all topics: a CloudEvents request and its response, or Seldon's inputs and
    // outputs topics, pair only through shared state.
    // The frozen config is deeply readonly; the decoders take their own (mutable) input type and
    // compile it again, so hand them a copy.
    const decoderOptions = (inputFormat: InputFormat): DecoderOptionsInput => ({
      ...(structuredClone(config.decoders) as DecoderOptionsInput),
      inputFormat,
    });
    this.decoderRuntime = createDecoderRuntime(decoderOptions(config.decoders.inputFormat), {
      onUnpaired: ({ side, cause }) => this.metrics.unpaired.inc({ side, cause }),
    });
    const maxEventBytes = config.ingest.maxEventBytes;
    const decoders = new Map<string, RecordDecoder>([
      [
        topics.predictions,
        createDecoder('prediction', this.decoderRuntime.options, maxEventBytes, this.decoderRuntime),
      ],
      [
        topics.outcomes,
        createDecoder('outcome', decoderOptions('native'), maxEventBytes, this.decoderRuntime),
      ],
      ...topics.inputs.map(
        (input) =>
          [
            input.topic,
            createDecoder(
              'prediction',
              decoderOptions(input.format ?? config.decoders.inputFormat),
              maxEventBytes,
              this.decoderRuntime,
            ),
          ] as const,
      ),
    ]);
    this.alerting = new Alerting({
      store,
      config: config.alerts,
      logger: rootLogger.child({ component: 'alerts' }),
      registry: this.metrics.registry,
    });
    this.pipeline = new IngestPipeline(config.ingest, {
      decoders,
      store: this.events,
      deadLetters: this.deadLetters,
      metrics: this.metrics,
      logger: rootLogger.child({ component: 'ingest' }),
      signal: this.abort.signal,
      onStoreHealth: (error) => {
        this.ingestStoreError = error;
      },
    });
    this.consumer = new IngestConsumer(
      this.kafka,
      this.pipeline,
      {
        groupId: config.kafka.consumerGroup,
        topics: [...decoders.keys()],
        fromBeginning: config.kafka.fromBeginning,
        sessionTimeoutMs: config.kafka.sessionTimeoutMs,
        heartbeatIntervalMs: config.kafka.heartbeatIntervalMs,
        maxBytesPerPartition: config.kafka.maxBytesPerPartition,
        partitionsConsumedConcurrently: config.ingest.partitionsConsumedConcurrently,
        // Check held halves often enough that a pair timeout is honoured within ~25%.
        expireIntervalMs: Math.max(250, Math.min(5_000, Math.floor(config.decoders.pairTimeoutMs / 4))),
        // An embedded store lives in this process: no other replica may consume the group.
        ...(store.engine === 'embedded' ? { soleOwner: { startedAtMs: Date.now() } } : {}),
        stallAfterMs: config.ingest.stallAfterMs,
      },
      this.metrics,
      rootLogger.child({ component: 'consumer' }),
      (error, willRestart) => {
        if (!willRestart) this.fail(error);
      },
    );
    const monitorLogger = rootLogger.child({ component: 'monitor' });
    const monitorSourcesOf = monitorSources(store, config.monitoring, monitorLogger);
    const monitorStore = monitorSourcesOf.store;
    this.ownership = new ModelOwnership(
      this.kafka,
      {
        topic: config.monitoring.coordination.topic,
        groupId: `${config.kafka.consumerGroup}-coordination`,
        sessionTimeoutMs: config.monitoring.coordination.sessionTimeoutMs,
        heartbeatIntervalMs: config.monitoring.coordination.heartbeatIntervalMs,
      },
      rootLogger.child({ component: 'coordination' }),
    );
    this.retune = createRetuneWiring({
      config,
      store,
      kafka: this.kafka,
      alerting: this.alerting,
      logger: rootLogger,
      registry: this.metrics.registry,
      taskOf: (model) => modelSettings(config.monitoring, model).task?.type,
    });
    this.monitor = new Monitor({
      ...monitorSourcesOf,
      config: config.monitoring,
      alerting: this.alerting,
      ownership: this.ownership,
      metrics: createMonitorMetrics(this.metrics.registry),
      logger: monitorLogger,
      replica: `${hostname()}-${process.pid}`,
      // Retune runs where the model's evaluation runs: on the one replica that owns the model.
      onEvaluated: (evaluation, health) => this.retune.onEvaluated(evaluation, health),
      onReleased: (model) => this.retuner.release(model),
    });
    this.monitorTask = new RepeatingTask(
      config.monitoring.intervalMs,
      async () => {
        await this.monitor.runCycle();
      },
      (error) => monitorLogger.warn({ err: error }, 'monitor cycle failed; will retry next interval'),
    );
    const estimationStore = new EstimationStore(store);
    const httpLogger = rootLogger.child({ component: 'http' });
    // One budget for every request body: memory stays bounded however many requests arrive at once.
    const budget = new BodyBudget(config.http.maxBodyBytesInFlight);
    const monitorRouteDeps = {
      store: monitorStore,
      estimation: estimationStore,
      alerting: this.alerting,
      config: config.monitoring,
      maxBodyBytes: config.http.maxBodyBytes,
      onReference: (model: string) => this.monitor.invalidate(model),
      bodyBudget: bodyBudget(budget, config.http.maxBodyBytes),
    };
    const retune = retuneRoutes({ retuner: this.retune.retuner, maxBodyBytes: config.http.maxBodyBytes });
    this.app = createHttpApp({
      logger: httpLogger,
      metrics: this.metrics,
      apiToken: config.http.apiToken,
      protectReads: config.http.protectReads,
      protectMetrics: config.http.protectMetrics,
      readiness: () => this.readiness(),
      writeRoutes: [
        ingestRoutes({
          store: this.events,
          metrics: this.metrics,
          maxBodyBytes: config.http.maxBodyBytes,
          maxEventBytes,
          budget,
          logger: httpLogger,
        }),
        monitorWriteRoutes(monitorRouteDeps),
        retune.write,
      ],
      openRoutes: [
        cloudEventsRoute({
          ingest: createHttpCloudEventIngest(this.decoderRuntime, maxEventBytes),
          store: this.events,
          metrics: this.metrics,
          maxBodyBytes: config.http.maxBodyBytes,
          apiToken: config.http.apiToken,
          open: config.http.openCloudEvents,
          budget,
          logger: httpLogger,
        }),
      ],
      readRoutes: [
        monitorReadRoutes(monitorRouteDeps),
        performanceRoutes({ estimation: estimationStore }),
        retune.read,
        openApiRoute(DRIFTGUARD_VERSION),
      ],
    });
    this.http = new HttpServer(this.app);
    const retentionLogger = rootLogger.child({ component: 'retention' });
    this.retention = new RepeatingTask(
      config.store.retentionCheckIntervalMs,
      async () => {
        await dropExpiredPartitions(
          store,
          { events: config.store.retentionDays, history: config.store.historyRetentionDays },
          Date.now(),
          retentionLogger,
        );
      },
      (error) => retentionLogger.warn({ err: error }, 'retention sweep failed; will retry next interval'),
    );
  }

  get retuner(): Retuner {
    return this.retune.retuner;
  }

  get currentState(): DaemonState {
    return this.state;
  }

  get address(): AddressInfo | undefined {
    return this.boundAddress;
  }

  async start(): Promise<void> {
    this.transition('starting');
    try {
      this.boundAddress = await this.http.listen(this.config.http.port, this.config.http.host);
      this.logger.info({ host: this.boundAddress.address, port: this.boundAddress.port }, 'http listening');
      this.logger.info(
        { engine: this.store.engine, location: this.store.location },
        describeStore(this.store),
      );
      await retry(() => migrate(this.store, this.logger, ALL_MIGRATIONS), {
        maxAttempts: 10,
        initialDelayMs: 500,
        maxDelayMs: 5_000,
        signal: this.abort.signal,
        onRetry: (error, attempt) =>
          this.logger.warn({ err: error, attempt }, 'ClickHouse not ready for migrations; retrying'),
      });
      await this.alerting.start();
      await this.retune.prepare();
      await this.retuner.start();
      await this.consumer.start();
      this.retention.start(5_000);
      if (this.config.monitoring.enabled) {
        await this.ownership.start();
        this.monitorTask.start(this.config.monitoring.intervalMs);
      }
      this.transition('running');
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  /** Stops fetching, flushes and commits, leaves the group, then closes everything. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /** Gives up a stop that overran its grace period: abort retries, drop connections. */
  forceStop(): void {
    this.abort.abort(new Error('forced stop'));
    this.http.forceClose();
  }

  private async doStop(): Promise<void> {
    if (this.state !== 'failed') this.transition('draining');
    this.retention.stop();
    this.monitorTask.stop();
    const steps: Array<[string, () => Promise<void>]> = [
      ['coordination', () => this.ownership.stop()],
      ['consumer', () => this.consumer.stop()],
      ['ingest buffer', () => this.pipeline.drain()],
      ['dead-letter producer', () => this.deadLetters.close()],
      ['retune', () => this.retuner.stop()],
      ['alerting', () => this.alerting.stop()],
      ['kafka admin', async () => this.admin?.disconnect()],
      ['http', () => this.http.close()],
      ['store', () => this.store.close()],
    ];
    for (const [name, step] of steps) {
      try {
        await step();
      } catch (error) {
        this.logger.warn({ err: error, step: name }, 'error while stopping; continuing');
      }
    }
    if (this.state !== 'failed') this.transition('stopped');
  }

  private fail(error: unknown): void {
    if (this.state === 'failed' || this.state === 'stopped') return;
    this.logger.error({ err: error }, 'fatal error');
    this.transition('failed');
    this.hooks.onFatal?.(error);
  }

  private transition(next: DaemonState): void {
    this.logger.info({ from: this.state, to: next }, 'state change');
    this.state = next;
  }

  async readiness(): Promise<ReadinessCheck[]> {
    const checks: ReadinessCheck[] = [];
    checks.push(
      this.state === 'running'
        ? { name: 'daemon', ok: true }
        : { name: 'daemon', ok: false, reason: `daemon is ${this.state}` },
    );
    const [clickhouse, kafka] = await Promise.all([this.checkClickHouse(), this.checkKafka()]);
    checks.push(clickhouse, kafka);
    if (this.ingestStoreError !== undefined) {
      checks.push({
        name: 'ingest',
        ok: false,
        reason: `ingest is waiting: ${publicErrorMessage(this.ingestStoreError)}; consumption resumes by itself when it recovers`,
      });
    } else {
      checks.push({ name: 'ingest', ok: true });
    }
    // Only once running: before that the daemon check says why it is not ready.
    const consumer = this.state === 'running' ? this.consumer.progress() : { ok: true };
    checks.push(
      consumer.ok
        ? { name: 'consumer', ok: true }
        : { name: 'consumer', ok: false, reason: consumer.reason ?? 'no progress' },
    );
    return checks;
  }

  private async checkClickHouse(): Promise<ReadinessCheck> {
    try {
      await withTimeout(this.store.ping(), 2_000, 'ClickHouse ping timed out after 2 s');
      return { name: 'clickhouse', ok: true };
    } catch (error) {
      return {
        name: 'clickhouse',
        ok: false,
        // The timeout is ours; a store error says only what a client may see (no database text).
        reason: `${error instanceof DriftguardError ? error.publicMessage : errorMessage(error)} (${this.store.location})`,
      };
    }
  }

  private async checkKafka(): Promise<ReadinessCheck> {
    try {
      this.admin ??= this.kafka.admin();
      await withTimeout(
        this.admin.connect().then(() => this.admin?.describeCluster()),
        3_000,
        'Kafka did not answer a metadata request within 3 s',
      );
      return { name: 'kafka', ok: true };
    } catch (error) {
      return {
        name: 'kafka',
        ok: false,
        reason: `${error instanceof Error ? error.message : String(error)} (${this.config.kafka.brokers.join(',')})`,
      };
    }
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
