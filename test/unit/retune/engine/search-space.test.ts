import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileSearchSpace,
  explainInvalidParams,
  isValueInDomain,
  type CompiledIntParam,
  type ParamOptions,
  type SearchSpaceOptions,
} from '../../../../retune/engine/search-space.js';
import { Rng } from '../../../../retune/engine/prng.js';
import {
  sampleParamUniformly,
  sampleSpaceUniformly,
} from '../../../../retune/engine/samplers/random-sampler.js';
import { HpoError } from '../../../../retune/engine/errors.js';

function compileOne(param: ParamOptions) {
  const compiled = compileSearchSpace({ params: [param] }).params[0];
  if (compiled === undefined) throw new Error('no param');
  return compiled;
}

function expectInvalid(space: unknown, message: RegExp): void {
  let thrown: unknown;
  try {
    compileSearchSpace(space as SearchSpaceOptions);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(HpoError);
  expect((thrown as HpoError).code).toBe('HPO_OPTIONS_INVALID');
  expect((thrown as HpoError).message).toMatch(message);
}

describe('compileSearchSpace validation', () => {
  it.each([
    [{ params: [{ name: 'x', type: 'float', low: 1, high: 1 }] }, /low \(1\) must be below high \(1\)/],
    [
      { params: [{ name: 'x', type: 'float', low: 0, high: 1, log: true }] },
      /log scale needs low > 0, got low=0/,
    ],
    [{ params: [{ name: 'x', type: 'float', low: 0, high: Infinity }] }, /high must be a finite number/],
    [
      { params: [{ name: 'n', type: 'int', low: 0, high: 10, step: 3 }] },
      /step 3 does not divide high - low = 10; use a high of 9/,
    ],
    [{ params: [{ name: 'n', type: 'int', low: 0.5, high: 10 }] }, /int bounds must be integers/],
    [{ params: [{ name: 'n', type: 'int', low: 0, high: 10, log: true }] }, /log scale needs low >= 1/],
    [
      { params: [{ name: 'n', type: 'int', low: 1, high: 9, step: 2, log: true }] },
      /cannot be combined with step 2/,
    ],
    [{ params: [{ name: 'c', type: 'categorical', choices: [] }] }, /choices must be a non-empty list/],
    [{ params: [{ name: 'c', type: 'categorical', choices: ['a', 'a'] }] }, /"a" is listed twice/],
    [
      { params: [{ name: 'c', type: 'categorical', choices: [null] }] },
      /not a string, finite number or boolean/,
    ],
    [{ params: [{ name: 'x', type: 'gaussian' }] }, /type "gaussian" is not supported/],
    [{ params: [] }, /space.params is empty/],
    [{}, /space.params must be a list/],
    [
      {
        params: [
          { name: 'x', type: 'float', low: 0, high: 1 },
          { name: 'x', type: 'float', low: 0, high: 1 },
        ],
      },
      /"x" is defined twice/,
    ],
    [
      { params: [{ name: 'm', type: 'float', low: 0, high: 1, condition: { param: 'opt', in: ['sgd'] } }] },
      /condition.param "opt" is not a parameter declared before it/,
    ],
    [
      {
        params: [
          { name: 'opt', type: 'categorical', choices: ['sgd', 'adam'] },
          { name: 'm', type: 'float', low: 0, high: 1, condition: { param: 'opt', in: ['rmsprop'] } },
        ],
      },
      /condition.in value "rmsprop" is not a choice of "opt"/,
    ],
    [
      {
        params: [
          { name: 'depth', type: 'int', low: 1, high: 3 },
          { name: 'm', type: 'float', low: 0, high: 1, condition: { param: 'depth', in: [1] } },
        ],
      },
      /can only depend on categorical parameters/,
    ],
  ])('rejects %j', (space, message) => expectInvalid(space, message));

  it('survives a JSON round trip (definitions come from YAML/JSON config)', () => {
    const space: SearchSpaceOptions = {
      params: [
        { name: 'lr', type: 'float', low: 1e-5, high: 1, log: true },
        { name: 'layers', type: 'int', low: 1, high: 9, step: 2 },
        { name: 'opt', type: 'categorical', choices: ['sgd', 'adam'] },
        { name: 'momentum', type: 'float', low: 0, high: 0.99, condition: { param: 'opt', in: ['sgd'] } },
      ],
    };
    expect(compileSearchSpace(JSON.parse(JSON.stringify(space)) as SearchSpaceOptions)).toEqual(
      compileSearchSpace(space),
    );
  });
});

const floatParam = fc
  .record({
    low: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
    width: fc.double({ min: 1e-6, max: 1e6, noNaN: true }),
    log: fc.boolean(),
  })
  .map(({ low, width, log }): ParamOptions => {
    const lo = log ? Math.abs(low) + 1e-9 : low;
    return { name: 'x', type: 'float', low: lo, high: lo + width, log };
  });

const intParam = fc
  .record({
    low: fc.integer({ min: -1000, max: 1000 }),
    steps: fc.integer({ min: 1, max: 500 }),
    step: fc.integer({ min: 1, max: 7 }),
    log: fc.boolean(),
  })
  .map(({ low, steps, step, log }): ParamOptions =>
    log
      ? { name: 'n', type: 'int', low: Math.abs(low) + 1, high: Math.abs(low) + 1 + steps, log: true }
      : { name: 'n', type: 'int', low, high: low + steps * step, step },
  );

describe('uniform sampling', () => {
  it('always stays inside float bounds', () => {
    fc.assert(
      fc.property(floatParam, fc.nat(), (options, seed) => {
        const param = compileOne(options);
        const rng = Rng.derive(seed);
        for (let i = 0; i < 20; i++)
          expect(isValueInDomain(param, sampleParamUniformly(param, rng))).toBe(true);
      }),
    );
  });

  it('always lands on the int step grid, ends included', () => {
    fc.assert(
      fc.property(intParam, fc.nat(), (options, seed) => {
        const param = compileOne(options) as CompiledIntParam;
        const rng = Rng.derive(seed);
        for (let i = 0; i < 20; i++) {
          const value = sampleParamUniformly(param, rng) as number;
          expect(Number.isInteger(value)).toBe(true);
          expect((value - param.low) % param.step).toBe(0);
          expect(value).toBeGreaterThanOrEqual(param.low);
          expect(value).toBeLessThanOrEqual(param.high);
        }
      }),
    );
  });

  it('reaches both ends of an int range with equal weight', () => {
    const param = compileOne({ name: 'n', type: 'int', low: 0, high: 4, step: 2 });
    const rng = Rng.derive(5);
    const counts = new Map<number, number>();
    for (let i = 0; i < 9000; i++) {
      const v = sampleParamUniformly(param, rng) as number;
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([0, 2, 4]);
    for (const count of counts.values()) expect(Math.abs(count - 3000)).toBeLessThan(250);
  });

  it('spreads log floats evenly over orders of magnitude', () => {
    const param = compileOne({ name: 'lr', type: 'float', low: 1e-5, high: 1, log: true });
    const rng = Rng.derive(11);
    const decades = [0, 0, 0, 0, 0];
    for (let i = 0; i < 10_000; i++) {
      const v = sampleParamUniformly(param, rng) as number;
      const decade = Math.min(4, Math.floor(Math.log10(v) + 5));
      decades[decade] = (decades[decade] ?? 0) + 1;
    }
    // Uniform on a linear scale would put ~90% in the top decade.
    for (const count of decades) expect(Math.abs(count - 2000)).toBeLessThan(200);
  });

  it('samples conditional parameters only under their parent values', () => {
    const space = compileSearchSpace({
      params: [
        { name: 'opt', type: 'categorical', choices: ['sgd', 'adam', 'rmsprop'] },
        {
          name: 'momentum',
          type: 'float',
          low: 0,
          high: 0.99,
          condition: { param: 'opt', in: ['sgd', 'rmsprop'] },
        },
        {
          name: 'nesterov',
          type: 'categorical',
          choices: [true, false],
          condition: { param: 'opt', in: ['sgd'] },
        },
        { name: 'beta2', type: 'float', low: 0.9, high: 0.9999, condition: { param: 'opt', in: ['adam'] } },
      ],
    });
    fc.assert(
      fc.property(fc.nat(), (seed) => {
        const params = sampleSpaceUniformly(space, Rng.derive(seed));
        expect(explainInvalidParams(space, params)).toBeUndefined();
        expect('momentum' in params).toBe(params.opt !== 'adam');
        expect('nesterov' in params).toBe(params.opt === 'sgd');
        expect('beta2' in params).toBe(params.opt === 'adam');
      }),
    );
  });
});

describe('explainInvalidParams', () => {
  const space = compileSearchSpace({
    params: [
      { name: 'opt', type: 'categorical', choices: ['sgd', 'adam'] },
      { name: 'momentum', type: 'float', low: 0, high: 1, condition: { param: 'opt', in: ['sgd'] } },
      { name: 'n', type: 'int', low: 0, high: 10, step: 5 },
    ],
  });

  it.each([
    [{ opt: 'sgd', momentum: 0.5, n: 5 }, undefined],
    [{ opt: 'adam', n: 10 }, undefined],
    [{ opt: 'adam', momentum: 0.5, n: 10 }, /"momentum" is set but inactive/],
    [{ opt: 'sgd', n: 10 }, /"momentum" is missing/],
    [{ opt: 'adam', n: 3 }, /"n" = 3 is outside its domain/],
    [{ opt: 'adam', n: 0, extra: 1 }, /"extra" is not a parameter/],
  ])('%j', (params, expected) => {
    const reason = explainInvalidParams(space, params);
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });
});
