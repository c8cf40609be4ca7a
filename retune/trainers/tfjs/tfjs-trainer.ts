import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import type { Logger } from '../../../kernel/logger.js';
import { readFeatureRows, readSplit, type DatasetRow, type FeatureRow } from '../../data/dataset-files.js';
import { Rng } from '../../engine/prng.js';
import { TrainerError } from '../errors.js';
import type { DatasetRef, Trainer, TrialRequest, TrialResult } from '../trainer.js';
import { loadTfBackend, type RetuneBackend, type RetuneBackendName, type Tf } from './backend.js';
import { loadModel, MODEL_META_FORMAT, saveModel } from './model-files.js';
import { compileTfjsParams, type TfjsParams } from './params.js';

/** The `trainer: { kind: tfjs }` config section. */
export interface TfjsTrainerOptions {
  readonly kind: 'tfjs';
  /** Best backend to try; worse ones are fallbacks. @default 'auto' */
  readonly backend?: 'auto' | RetuneBackendName;
  /** Values for params the search space does not set (see TFJS_PARAM_DEFAULTS). */
  readonly defaults?: Readonly<Record<string, string | number | boolean>>;
}

export const TFJS_OBJECTIVES = {
  classification: ['val_loss', 'val_accuracy'],
  regression: ['val_loss', 'val_rmse'],
} as const;

const PREDICT_BATCH_ROWS = 4096;

/**
 * Tabular classification (softmax) and regression (linear output) with an MLP, or a logistic /
 * linear model when `layers` is 0. One epoch at a time: after each, the validation metrics are
 * computed and the objective goes to `request.report`; a prune answer stops training.
 * Metrics: `val_loss` (cross-entropy, or MSE for regression), `val_accuracy`, `val_rmse`.
 */
export class TfjsTrainer implements Trainer {
  readonly name = 'tfjs';
  private readonly logger: Logger | undefined;

  constructor(
    readonly options: TfjsTrainerOptions = { kind: 'tfjs' },
    deps: { logger?: Logger } = {},
  ) {
    this.logger = deps.logger?.child({ component: 'tfjs-trainer' });
    compileTfjsParams({}, options.defaults);
  }

  /** The backend in use (selected on first call, once per process). */
  backend(): Promise<RetuneBackend> {
    return loadTfBackend({ prefer: this.options.backend, logger: this.logger });
  }

  async train(request: TrialRequest): Promise<TrialResult> {
    const { dataset } = request;
    const params = compileTfjsParams(request.params, this.options.defaults);
    const allowed: readonly string[] = TFJS_OBJECTIVES[dataset.task];
    if (!allowed.includes(request.objective))
      throw new TrainerError(
        'TRAINER_CONFIG_INVALID',
        `the tfjs trainer reports ${allowed.join(', ')} for ${dataset.task}, not ${JSON.stringify(request.objective)}: set the study's objective to one of them`,
      );
    if (dataset.task === 'classification' && dataset.classes.length < 2)
      throw new TrainerError(
        'ARTIFACT_INVALID',
        `classification needs at least 2 classes, the dataset has ${dataset.classes.length}`,
      );
    const backend = await this.backend();
    const { tf } = backend;
    const [train, validation] = await Promise.all([
      readSplit(dataset.dir, 'train'),
      readSplit(dataset.dir, 'validation'),
    ]);
    if (train.length === 0 || validation.length === 0)
      throw new TrainerError(
        'ARTIFACT_INVALID',
        `dataset ${dataset.dir} has an empty train or validation split`,
      );
    const width = dataset.inputColumns.length;
    const outputs = dataset.task === 'classification' ? dataset.classes.length : 1;
    const log = this.logger?.child({ study: request.studyId, trial: request.trialNumber });

    const xTrain = features(tf, train, width);
    const yTrain = targets(tf, train, dataset.task, outputs);
    const xValidation = features(tf, validation, width);
    const model = buildModel(tf, params, width, outputs, dataset.task);
    let metrics: Record<string, number> = {};
    let pruned = false;
    const startedMs = Date.now();
    try {
      for (let epoch = 1; epoch <= params.epochs; epoch++) {
        if (request.signal.aborted)
          throw new TrainerError(
            'TRIAL_CANCELLED',
            `trial ${request.trialNumber} was cancelled at epoch ${epoch}`,
            {
              cause: request.signal.reason,
            },
          );
        // tfjs's own `shuffle` draws from Math.random; a seeded order makes a trial repeatable.
        const order = tf.tensor1d(shuffledOrder(train.length, params.seed, epoch), 'int32');
        const xEpoch = tf.gather(xTrain, order);
        const yEpoch = tf.gather(yTrain, order);
        try {
          await model.fit(xEpoch, yEpoch, {
            epochs: 1,
            batchSize: params.batchSize,
            shuffle: false,
            verbose: 0,
            // A cancelled trial stops within a batch, not at the end of a long epoch.
            callbacks: {
              onBatchEnd: () => {
                if (request.signal.aborted) model.stopTraining = true;
              },
            },
          });
        } finally {
          tf.dispose([order, xEpoch, yEpoch]);
        }
        if (request.signal.aborted)
          throw new TrainerError(
            'TRIAL_CANCELLED',
            `trial ${request.trialNumber} was cancelled at epoch ${epoch}`,
            {
              cause: request.signal.reason,
            },
          );
        metrics = validationMetrics(tf, model, xValidation, validation, dataset.task);
        const value = metrics[request.objective] as number;
        if (request.report(epoch, value).prune) {
          pruned = true;
          log?.info({ epoch, [request.objective]: value }, 'trial pruned');
          break;
        }
      }
      const objective = metrics[request.objective] ?? Number.NaN;
      if (pruned) return { objective, metrics, pruned };
      await saveModel(tf, model, request.artifactDir, {
        format: MODEL_META_FORMAT,
        task: dataset.task,
        classes: dataset.classes,
        inputColumns: dataset.inputColumns,
        params: { ...params },
        backend: backend.name,
        savedAtMs: Date.now(),
      });
      log?.info({ objective, metrics, backend: backend.name, ms: Date.now() - startedMs }, 'trial trained');
      return { objective, metrics, pruned, artifactPath: request.artifactDir };
    } finally {
      xTrain.dispose();
      yTrain.dispose();
      xValidation.dispose();
      model.dispose();
    }
  }

  async predict(
    artifactPath: string,
    dataset: DatasetRef,
    split: 'holdout' | 'validation',
  ): Promise<Array<string | number>> {
    const { tf } = await this.backend();
    const { model, meta } = await loadModel(tf, artifactPath);
    try {
      if (JSON.stringify(meta.inputColumns) !== JSON.stringify(dataset.inputColumns))
        throw new TrainerError(
          'ARTIFACT_INVALID',
          `model in ${artifactPath} was trained on other input columns than dataset ${dataset.dir}; score both models on a dataset encoded the same way`,
          { details: { model: meta.inputColumns, dataset: dataset.inputColumns } },
        );
      const rows = await readFeatureRows(dataset.dir, split);
      const out: Array<string | number> = [];
      for (let start = 0; start < rows.length; start += PREDICT_BATCH_ROWS) {
        const chunk = rows.slice(start, start + PREDICT_BATCH_ROWS);
        const values = tf.tidy(() => {
          const output = model.predict(features(tf, chunk, meta.inputColumns.length)) as Tensor;
          return meta.task === 'classification'
            ? (output.argMax(1).arraySync() as number[])
            : (output.reshape([-1]).arraySync() as number[]);
        });
        for (const v of values) out.push(meta.task === 'classification' ? (meta.classes[v] ?? String(v)) : v);
      }
      return out;
    } finally {
      model.dispose();
    }
  }
}

function features(tf: Tf, rows: readonly FeatureRow[], width: number): Tensor {
  const data = new Float32Array(rows.length * width);
  rows.forEach((row, i) => {
    if (row.x.length !== width)
      throw new TrainerError(
        'ARTIFACT_INVALID',
        `row ${row.id} has ${row.x.length} inputs, the dataset declares ${width}`,
      );
    data.set(row.x, i * width);
  });
  return tf.tensor2d(data, [rows.length, width]);
}

function targets(tf: Tf, rows: readonly DatasetRow[], task: DatasetRef['task'], outputs: number): Tensor {
  if (task === 'regression')
    return tf.tensor2d(
      Float32Array.from(rows, (r) => r.y),
      [rows.length, 1],
    );
  return tf.tidy(() =>
    tf
      .oneHot(
        tf.tensor1d(
          Int32Array.from(rows, (r) => r.y),
          'int32',
        ),
        outputs,
      )
      .toFloat(),
  );
}

function buildModel(
  tf: Tf,
  params: TfjsParams,
  width: number,
  outputs: number,
  task: DatasetRef['task'],
): LayersModel {
  const model = tf.sequential();
  const regularizer = params.l2 > 0 ? () => tf.regularizers.l2({ l2: params.l2 }) : () => undefined;
  for (let layer = 0; layer < params.layers; layer++) {
    model.add(
      tf.layers.dense({
        units: params.units,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: params.seed + layer }),
        kernelRegularizer: regularizer(),
        ...(layer === 0 ? { inputShape: [width] } : {}),
      }),
    );
    if (params.dropout > 0)
      model.add(tf.layers.dropout({ rate: params.dropout, seed: params.seed + 100 + layer }));
  }
  model.add(
    tf.layers.dense({
      units: outputs,
      activation: task === 'classification' ? 'softmax' : 'linear',
      kernelInitializer: tf.initializers.glorotUniform({ seed: params.seed + 1000 }),
      kernelRegularizer: regularizer(),
      ...(params.layers === 0 ? { inputShape: [width] } : {}),
    }),
  );
  const optimizer =
    params.optimizer === 'sgd'
      ? tf.train.sgd(params.learningRate)
      : params.optimizer === 'rmsprop'
        ? tf.train.rmsprop(params.learningRate)
        : tf.train.adam(params.learningRate);
  model.compile({
    optimizer,
    loss: task === 'classification' ? 'categoricalCrossentropy' : 'meanSquaredError',
  });
  return model;
}

/** Validation metrics computed in one pass over the model's outputs. */
function validationMetrics(
  tf: Tf,
  model: LayersModel,
  x: Tensor,
  rows: readonly DatasetRow[],
  task: DatasetRef['task'],
): Record<string, number> {
  const output = tf.tidy(() => (model.predict(x) as Tensor).arraySync() as number[][]);
  if (task === 'regression') {
    let se = 0;
    rows.forEach((row, i) => {
      const err = (output[i]?.[0] ?? Number.NaN) - row.y;
      se += err * err;
    });
    const mse = se / rows.length;
    return { val_loss: mse, val_rmse: Math.sqrt(mse) };
  }
  let loss = 0;
  let correct = 0;
  rows.forEach((row, i) => {
    const p = output[i] ?? [];
    loss -= Math.log(Math.max(p[row.y] ?? 0, 1e-7));
    let best = 0;
    for (let k = 1; k < p.length; k++) if ((p[k] as number) > (p[best] as number)) best = k;
    if (best === row.y) correct++;
  });
  return { val_loss: loss / rows.length, val_accuracy: correct / rows.length };
}

/** The row order of one epoch: a Fisher-Yates shuffle keyed by (seed, epoch). */
export function shuffledOrder(rows: number, seed: number, epoch: number): Int32Array {
  const order = new Int32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  const rng = Rng.derive(seed, 'tfjs-shuffle', epoch);
  for (let i = rows - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const swap = order[i] as number;
    order[i] = order[j] as number;
    order[j] = swap;
  }
  return order;
}
