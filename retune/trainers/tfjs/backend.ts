import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import type * as TfNamespace from '@tensorflow/tfjs';
import type { Logger } from '../../../kernel/logger.js';

/**
 * Picks the TensorFlow.js backend once per process, at run time, by what is installed:
 * `@tensorflow/tfjs-node-gpu` (libtensorflow with CUDA) → `@tensorflow/tfjs-node`
 * (libtensorflow, CPU) → `@tensorflow/tfjs-backend-wasm` → the pure JS `cpu` backend. The two
 * node packages download native binaries when installed, so driftguard does not depend on them:
 * a GPU host installs one next to driftguard and it is found here by a dynamic import.
 */

export type Tf = typeof TfNamespace;
export type RetuneBackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const RETUNE_BACKEND_NAMES: readonly RetuneBackendName[] = [
  'tensorflow-gpu',
  'tensorflow',
  'wasm',
  'cpu',
];

export interface RetuneBackend {
  readonly name: RetuneBackendName;
  /** The npm package that provides it. */
  readonly package: string;
  /** `tf.getBackend()` after initialisation: 'tensorflow', 'wasm' or 'cpu'. */
  readonly tfBackend: string;
  readonly tfVersion: string;
  readonly tf: Tf;
  /** Why the better backends were skipped (not installed, failed to load). */
  readonly skipped: ReadonlyArray<{ readonly backend: RetuneBackendName; readonly reason: string }>;
}

export interface SelectBackendOptions {
  /** The best backend to try; later ones are fallbacks. @default 'auto' (= 'tensorflow-gpu') */
  readonly prefer?: 'auto' | RetuneBackendName;
  readonly logger?: Logger;
  /** Injected for tests. @default dynamic `import()` */
  readonly importModule?: (specifier: string) => Promise<unknown>;
}

const PACKAGES: Record<RetuneBackendName, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs',
};

// A variable specifier keeps TypeScript from resolving packages that are optional by design.
const dynamicImport = (specifier: string): Promise<unknown> => import(specifier);

async function tryBackend(
  name: RetuneBackendName,
  importModule: (s: string) => Promise<unknown>,
): Promise<Tf> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      // tfjs-node(-gpu) re-exports the whole tfjs API with its 'tensorflow' backend registered.
      const tf = (await importModule(PACKAGES[name])) as Tf;
      if (!(await tf.setBackend('tensorflow'))) throw new Error('the tensorflow backend did not initialise');
      await tf.ready();
      return tf;
    }
    case 'wasm': {
      const tf = (await importModule('@tensorflow/tfjs')) as Tf;
      await importModule(PACKAGES.wasm);
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
      await tf.ready();
      return tf;
    }
    case 'cpu': {
      const tf = (await importModule('@tensorflow/tfjs')) as Tf;
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
      await tf.ready();
      return tf;
    }
  }
}

/** Tries the backends from `prefer` down; the pure JS cpu backend always works. */
export async function selectTfBackend(options: SelectBackendOptions = {}): Promise<RetuneBackend> {
  const importModule = options.importModule ?? dynamicImport;
  const prefer =
    options.prefer === undefined || options.prefer === 'auto' ? 'tensorflow-gpu' : options.prefer;
  const skipped: Array<{ backend: RetuneBackendName; reason: string }> = [];
  for (const name of RETUNE_BACKEND_NAMES.slice(RETUNE_BACKEND_NAMES.indexOf(prefer))) {
    try {
      const tf = await tryBackend(name, importModule);
      const backend: RetuneBackend = {
        name,
        package: PACKAGES[name],
        tfBackend: tf.getBackend(),
        tfVersion: tf.version.tfjs,
        tf,
        skipped,
      };
      options.logger?.info(
        {
          backend: name,
          package: backend.package,
          tfBackend: backend.tfBackend,
          tfVersion: backend.tfVersion,
          skipped,
        },
        'retune backend selected',
      );
      return backend;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      skipped.push({
        backend: name,
        reason:
          code === 'ERR_MODULE_NOT_FOUND'
            ? `${PACKAGES[name]} not installed`
            : ((error as Error).message.split('\n')[0] ?? ''),
      });
    }
  }
  throw new Error(`no TensorFlow.js backend could be loaded: ${JSON.stringify(skipped)}`);
}

let selected: Promise<RetuneBackend> | undefined;
let selectedName: RetuneBackendName | undefined;

/**
 * The process-wide backend (TensorFlow.js has one global engine): selected on first use with
 * these options, reused afterwards.
 */
export function loadTfBackend(options: SelectBackendOptions = {}): Promise<RetuneBackend> {
  selected ??= selectTfBackend(options).then((backend) => {
    selectedName = backend.name;
    return backend;
  });
  return selected;
}

/** The backend retune trains on, once selected (undefined before the first trial or `loadTfBackend`). */
export function retuneBackend(): RetuneBackendName | undefined {
  return selectedName;
}

export const RETUNE_BACKEND_METRIC = 'driftguard_retune_backend_info';

/**
 * Sets `driftguard_retune_backend_info{backend="..."} 1` on `registry` (only the given backend
 * is 1: earlier label values are removed). Safe to call again.
 */
export function setRetuneBackendGauge(registry: Registry, backend: RetuneBackendName): void {
  const existing = registry.getSingleMetric(RETUNE_BACKEND_METRIC);
  const gauge =
    existing instanceof Gauge
      ? (existing as Gauge<'backend'>)
      : new Gauge({
          name: RETUNE_BACKEND_METRIC,
          help: 'TensorFlow.js backend the built-in retune trainer runs on (tensorflow-gpu, tensorflow, wasm, cpu); value 1',
          labelNames: ['backend'],
          registers: [registry],
        });
  gauge.reset();
  gauge.set({ backend }, 1);
}
