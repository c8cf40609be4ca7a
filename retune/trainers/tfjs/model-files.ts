import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { io, LayersModel } from '@tensorflow/tfjs';
import { TrainerError } from '../errors.js';
import type { Tf } from './backend.js';

/**
 * Saves and loads a Layers model as `model.json` + `weights.bin`, the layout tfjs-node's
 * `file://` handler uses (so either can read the other's), through a custom IOHandler: pure
 * tfjs has no file system handler. driftguard's own facts (task, classes, input columns) go to
 * `driftguard-model.json` beside them.
 */

export const MODEL_META_FILE = 'driftguard-model.json';
export const MODEL_META_FORMAT = 'driftguard.tfjs-model';

export interface TfjsModelMeta {
  readonly format: typeof MODEL_META_FORMAT;
  readonly task: 'classification' | 'regression';
  readonly classes: readonly string[];
  readonly inputColumns: readonly string[];
  readonly params: Readonly<Record<string, unknown>>;
  readonly backend: string;
  readonly savedAtMs: number;
}

function joinWeightData(data: io.WeightData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data.map((part) => Buffer.from(part))) : Buffer.from(data);
}

export async function saveModel(tf: Tf, model: LayersModel, dir: string, meta: TfjsModelMeta): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      if (artifacts.weightData === undefined || artifacts.weightSpecs === undefined)
        throw new Error('model.save produced no weights');
      const weights = joinWeightData(artifacts.weightData);
      await writeFile(path.join(dir, 'weights.bin'), weights);
      await writeFile(
        path.join(dir, 'model.json'),
        JSON.stringify({
          modelTopology: artifacts.modelTopology,
          format: artifacts.format,
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy ?? null,
          weightsManifest: [{ paths: ['./weights.bin'], weights: artifacts.weightSpecs }],
        }),
      );
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: weights.byteLength,
        },
      };
    }),
  );
  await writeFile(path.join(dir, MODEL_META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
}

export async function loadModel(tf: Tf, dir: string): Promise<{ model: LayersModel; meta: TfjsModelMeta }> {
  try {
    const modelJson = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as {
      modelTopology: object;
      weightsManifest: Array<{ paths: string[]; weights: io.WeightsManifestEntry[] }>;
    };
    const weightSpecs = modelJson.weightsManifest.flatMap((group) => group.weights);
    const buffers = await Promise.all(
      modelJson.weightsManifest.flatMap((group) => group.paths).map((p) => readFile(path.join(dir, p))),
    );
    const joined = Buffer.concat(buffers);
    const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength);
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData }),
    );
    const meta = JSON.parse(await readFile(path.join(dir, MODEL_META_FILE), 'utf8')) as TfjsModelMeta;
    if (meta.format !== MODEL_META_FORMAT)
      throw new Error(`${MODEL_META_FILE} has format ${String(meta.format)}`);
    return { model, meta };
  } catch (error) {
    throw new TrainerError(
      'ARTIFACT_INVALID',
      `cannot load the TensorFlow.js model in ${dir}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
