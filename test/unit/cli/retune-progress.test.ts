import { describe, expect, it } from 'vitest';
import { progressLine } from '../../../src/cli/retune-commands.js';

const base = {
  studyId: 'st-1',
  model: 'fraud',
  trigger: 'monitor',
  maxTrials: 10,
  bestTrial: -1,
  bestValue: null,
  objective: 'val_loss',
  error: '',
  createdAt: '2026-12-01T00:00:00.000Z',
};

describe('retune progress line', () => {
  it('shows a study waiting for post-drift labels with its counts', () => {
    expect(
      progressLine({
        ...base,
        state: 'waiting',
        window: {
          policy: 'drift-onset',
          onset: '2026-12-01T00:00:00.000Z',
          labelledRows: 340,
          neededRows: 1000,
        },
      }),
    ).toBe('waiting for labels: 340/1000 labelled rows after the drift onset 2026-12-01T00:00:00.000Z');
  });

  it('shows trials and the best value once it runs', () => {
    expect(
      progressLine(
        {
          ...base,
          state: 'running',
          bestTrial: 3,
          bestValue: 0.0412,
          trials: [{ trial: 0, state: 'complete', value: 1 }],
        },
        10,
      ),
    ).toBe('[#---------] 1/10 trials  best #3 = 0.0412  running');
  });
});
