import { describe, expect, it } from 'vitest';
import { selectTfBackend } from '../../../../retune/trainers/index.js';

const notInstalled = (specifier: string): Error =>
  Object.assign(new Error(`Cannot find package '${specifier}'`), { code: 'ERR_MODULE_NOT_FOUND' });

describe('selectTfBackend', () => {
  it('falls back from tfjs-node-gpu and tfjs-node to the next backend, recording why', async () => {
    const asked: string[] = [];
    const backend = await selectTfBackend({
      prefer: 'auto',
      importModule: (specifier) => {
        asked.push(specifier);
        if (specifier.startsWith('@tensorflow/tfjs-node')) return Promise.reject(notInstalled(specifier));
        if (specifier === '@tensorflow/tfjs-backend-wasm') return Promise.reject(new Error('wasm blocked'));
        return import('@tensorflow/tfjs');
      },
    });
    expect(asked.slice(0, 2)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
    expect(backend.name).toBe('cpu');
    expect(backend.tfBackend).toBe('cpu');
    expect(backend.skipped).toEqual([
      { backend: 'tensorflow-gpu', reason: '@tensorflow/tfjs-node-gpu not installed' },
      { backend: 'tensorflow', reason: '@tensorflow/tfjs-node not installed' },
      { backend: 'wasm', reason: 'wasm blocked' },
    ]);
  });

  it('starts from the preferred backend', async () => {
    const asked: string[] = [];
    const backend = await selectTfBackend({
      prefer: 'cpu',
      importModule: (specifier) => (asked.push(specifier), import('@tensorflow/tfjs')),
    });
    expect(asked).toEqual(['@tensorflow/tfjs']);
    expect(backend.name).toBe('cpu');
  });
});
