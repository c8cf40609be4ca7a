import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { Alerting } from '../alerts/index.js';
import type { CompiledConfig } from '../config/compile.js';
import type { Logger } from '../../kernel/logger.js';
import type { Store } from '../../kernel/store.js';
import { Retuner, type DeviceLeaseLike, type DeviceSlots } from '../../retune/index.js';
import { KafkaEventPublisher } from '../kafka/event-publisher.js';
import { createDatasetProvider } from '../../retune/data/index.js';
import { createDevicePool, type DevicePool } from '../../retune/scheduler/index.js';
import {
  createTrainer,
  loadTfBackend,
  setRetuneBackendGauge,
  type TrainerConfig,
} from '../../retune/trainers/index.js';

export interface RetuneWiringDeps {
  readonly config: CompiledConfig;
  readonly store: Store;
  readonly kafka: Kafka;
  readonly alerting: Alerting;
  readonly logger: Logger;
  readonly registry: Registry;
  /** The monitor's idea of a model's task, so datasets encode labels the same way. */
  readonly taskOf: (model: string) => 'classification' | 'regression' | undefined;
}

export interface RetuneWiring {
  readonly retuner: Retuner;
  /** Chooses the tfjs backend (logged, exported as a gauge) before the first study; idempotent. */
  prepare(): Promise<void>;
  /**
   * The monitor's hand-off after each evaluation: the model's status and when its current
   * unhealthy streak began, so a drift-triggered study learns from rows after it. Never rejects:
   * a failure (the store down while a study is created) is logged and the next evaluation retries.
   */
  onEvaluated(
    evaluation: {
      readonly model: string;
      readonly status: string;
      readonly rules: ReadonlyArray<{
        readonly rule: string;
        readonly breaching: boolean;
        readonly segment?: string;
      }>;
    },
    health: { readonly driftOnsetMs?: number },
  ): void;
}

/**
 * The device pool is built on first use: with `devices: auto` it asks nvidia-smi, which should
 * not happen while the daemon is merely being constructed (or when retune is off).
 */
class LazyDevicePool implements DeviceSlots {
  private pool: Promise<DevicePool> | undefined;

  constructor(private readonly create: () => Promise<DevicePool>) {}

  async acquire(signal?: AbortSignal): Promise<DeviceLeaseLike> {
    this.pool ??= this.create();
    return (await this.pool).acquire(signal);
  }
}

/**
 * Builds the retune subsystem from config: the trainer (built-in TensorFlow.js or the user's
 * command), the device pool (GPUs from config or nvidia-smi, else CPU slots), the dataset
 * provider over the store, and the event publisher (Kafka + alert sinks).
 */
export function createRetuneWiring(deps: RetuneWiringDeps): RetuneWiring {
  const retune = deps.config.retune;
  const logger = deps.logger.child({ component: 'retune' });
  const trainerConfig = structuredClone(retune.trainer) as unknown as TrainerConfig;
  const trainer = createTrainer(trainerConfig, { logger });
  const devices = new LazyDevicePool(async () => {
    const { pool, source } = await createDevicePool({
      devices: retune.scheduler.devices === 'auto' ? 'auto' : [...retune.scheduler.devices],
      trialsPerDevice: retune.scheduler.trialsPerDevice,
      cpuConcurrency: retune.scheduler.cpuConcurrency,
    });
    logger.info({ capacity: pool.capacity, source }, 'retune device pool ready');
    return pool;
  });
  const retuner = new Retuner({
    store: deps.store,
    config: structuredClone(retune),
    trainer,
    datasets: createDatasetProvider(deps.store, { taskOf: deps.taskOf, logger }),
    devices,
    publisher: new KafkaEventPublisher(deps.kafka, retune.eventsTopic),
    notifier: deps.alerting,
    logger,
    registry: deps.registry,
  });
  let prepared: Promise<void> | undefined;
  return {
    retuner,
    onEvaluated(evaluation, health) {
      // The whole model's breaching rules, for `retune.triggers.rules` (e.g. estimated:*).
      const breachingRules = evaluation.rules
        .filter((r) => r.breaching && (r.segment ?? '') === '')
        .map((r) => r.rule);
      retuner
        .onHealth(evaluation.model, evaluation.status, { ...health, breachingRules })
        .catch((error: unknown) =>
          logger.warn(
            { err: error, model: evaluation.model },
            'retune trigger failed; the next evaluation tries again',
          ),
        );
    },
    prepare() {
      prepared ??= (async () => {
        if (!retune.enabled || trainerConfig.kind !== 'tfjs') return;
        const backend = await loadTfBackend({ logger });
        setRetuneBackendGauge(deps.registry, backend.name);
        logger.info(
          { backend: backend.name, package: backend.package, skipped: backend.skipped },
          'retune backend chosen',
        );
      })();
      return prepared;
    },
  };
}
