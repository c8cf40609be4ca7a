import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  RECOMMENDED_TPE_OPTIONS,
  compileSearchSpace,
  explainInvalidParams,
  Study,
  type SamplerOptions,
  type SearchSpaceOptions,
} from '../../../../retune/engine/index.js';
import { Rng } from '../../../../retune/engine/prng.js';

const space: SearchSpaceOptions = {
  params: [
    { name: 'model', type: 'categorical', choices: ['linear', 'tree', 'mlp'] },
    {
      name: 'l2',
      type: 'float',
      low: 1e-6,
      high: 10,
      log: true,
      condition: { param: 'model', in: ['linear', 'mlp'] },
    },
    { name: 'depth', type: 'int', low: 2, high: 20, step: 3, condition: { param: 'model', in: ['tree'] } },
    {
      name: 'leaves',
      type: 'int',
      low: 8,
      high: 4096,
      log: true,
      condition: { param: 'model', in: ['tree'] },
    },
    { name: 'units', type: 'int', low: 16, high: 512, log: true, condition: { param: 'model', in: ['mlp'] } },
    {
      name: 'activation',
      type: 'categorical',
      choices: ['relu', 'tanh'],
      condition: { param: 'model', in: ['mlp'] },
    },
    { name: 'subsample', type: 'float', low: 0.5, high: 1 },
  ],
};
const compiled = compileSearchSpace(space);

const samplers: SamplerOptions[] = [
  { name: 'tpe' },
  { name: 'tpe', multivariate: true },
  { name: 'tpe', multivariate: true, constantLiar: true, nStartupTrials: 3 },
  { ...RECOMMENDED_TPE_OPTIONS, nStartupTrials: 3 },
  { name: 'random' },
  { name: 'grid', floatPoints: 2, values: { depth: [2, 20], leaves: [8, 4096], units: [16, 512] } },
];

describe.each(samplers)('sampler %j', (sampler) => {
  it('only ever suggests valid points of a conditional space, whatever the trial outcomes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) => {
        const study = Study.create({
          space,
          sampler,
          pruner: { name: 'none' },
          seed,
          budget: { maxConcurrent: 3 },
        });
        const outcomes = Rng.derive(seed, 'outcomes');
        const running: number[] = [];
        for (let i = 0; i < 40; i++) {
          const next = study.ask();
          if (next.kind === 'done') break;
          if (next.kind === 'trial') {
            expect(explainInvalidParams(compiled, next.trial.params)).toBeUndefined();
            running.push(next.trial.number);
          }
          if (running.length === 3 || next.kind === 'wait') {
            const trialNumber = running.shift() ?? 0;
            const roll = outcomes.nextFloat();
            if (roll < 0.15) study.tell(trialNumber, 'failed');
            else if (roll < 0.35) {
              study.report(trialNumber, 1, outcomes.nextFloat());
              study.tell(trialNumber, 'pruned');
            } else study.tell(trialNumber, 'complete', outcomes.nextFloat());
          }
        }
      }),
      { numRuns: 8 },
    );
  });
});
