/** ADWIN, Page–Hinkley and DDM: behaviour on known streams, and JSON round-trips that resume exactly. */
import { describe, expect, it } from 'vitest';
import { loadFixture } from './fixtures.js';
import {
  AdwinDetector,
  DdmDetector,
  PageHinkleyDetector,
  restoreStreamDetector,
  type StreamDetector,
  type StreamDetectorState,
} from '../../../detectors/streaming/index.js';
import { rng } from '../../support/random.js';

function bernoulliStream(
  n: number,
  pBefore: number,
  pAfter: number,
  changeAt: number,
  seed: number,
): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => (r() < (i < changeAt ? pBefore : pAfter) ? 1 : 0));
}

function detections(detector: StreamDetector, stream: readonly number[]): number[] {
  const at: number[] = [];
  stream.forEach((x, i) => {
    if (detector.update(x)) at.push(i);
  });
  return at;
}

interface StreamCase {
  detector: 'adwin' | 'page_hinkley' | 'ddm';
  stream: number[];
  drift_indices: number[];
  first_warning_index?: number;
  first_warning_after_drift_index?: number;
  source: string;
}

describe("River's documented examples give the same detection indices", () => {
  const make = {
    adwin: () => new AdwinDetector(),
    page_hinkley: () => new PageHinkleyDetector(),
    ddm: () => new DdmDetector(),
  };
  it.each(loadFixture<StreamCase>('stream-cases.json').map((c) => [c.source, c] as const))(
    '%s',
    (_source, c) => {
      const detector = make[c.detector]();
      expect(detections(detector, c.stream)).toEqual(c.drift_indices);
      if (c.detector === 'ddm') {
        const ddm = new DdmDetector();
        const warnings: number[] = [];
        let armed = true;
        c.stream.forEach((x, i) => {
          ddm.update(x);
          if (ddm.warningDetected && armed) {
            warnings.push(i);
            armed = false;
          }
          if (ddm.driftDetected) armed = true;
        });
        expect(warnings.slice(0, 2)).toEqual([c.first_warning_index, c.first_warning_after_drift_index]);
      }
    },
  );
});

describe('ADWIN', () => {
  it('detects a jump in error rate soon after it happens and not before', () => {
    const stream = bernoulliStream(4000, 0.1, 0.5, 2000, 1);
    const at = detections(new AdwinDetector(), stream);
    expect(at.length).toBeGreaterThan(0);
    expect(at[0]).toBeGreaterThanOrEqual(2000);
    expect(at[0]).toBeLessThan(2200);
  });

  it('stays quiet on a stationary stream and its window keeps growing', () => {
    const d = new AdwinDetector();
    expect(detections(d, bernoulliStream(5000, 0.2, 0.2, 0, 2))).toEqual([]);
    expect(d.width).toBe(5000);
    expect(d.estimation).toBeGreaterThan(0.17);
    expect(d.estimation).toBeLessThan(0.23);
  });

  it('shrinks its window after a change', () => {
    const d = new AdwinDetector();
    detections(d, bernoulliStream(4000, 0.1, 0.6, 2000, 3));
    expect(d.width).toBeLessThan(2500);
    expect(d.estimation).toBeGreaterThan(0.5);
  });
});

describe('Page-Hinkley', () => {
  it('detects an upward mean shift in a loss stream', () => {
    const r = rng(4);
    const stream = Array.from({ length: 3000 }, (_, i) => (i < 1500 ? 0 : 3) + (r() - 0.5));
    const at = detections(new PageHinkleyDetector(), stream);
    expect(at[0]).toBeGreaterThanOrEqual(1500);
    expect(at[0]).toBeLessThan(1560);
  });

  it('waits for min instances', () => {
    const d = new PageHinkleyDetector({ threshold: 0.1 });
    const at = detections(d, [0, 0, 0, 0, 100, 100, 100, 100]);
    expect(at).toEqual([]);
  });
});

describe('DDM', () => {
  it('warns, then detects, a rise in error rate', () => {
    const d = new DdmDetector();
    const stream = bernoulliStream(3000, 0.05, 0.4, 1500, 5);
    let warned = false;
    let driftAt = -1;
    stream.forEach((x, i) => {
      const drift = d.update(x);
      if (d.warningDetected) warned = true;
      if (drift && driftAt < 0) driftAt = i;
    });
    expect(warned).toBe(true);
    expect(driftAt).toBeGreaterThanOrEqual(1500);
    expect(driftAt).toBeLessThan(1700);
  });
});

describe('JSON state round-trip resumes exactly', () => {
  const makers: [string, () => StreamDetector][] = [
    ['adwin', () => new AdwinDetector()],
    ['page_hinkley', () => new PageHinkleyDetector()],
    ['ddm', () => new DdmDetector()],
  ];
  it.each(makers)('%s', (_name, make) => {
    const stream = bernoulliStream(6000, 0.1, 0.45, 3000, 6);
    const uninterrupted = make();
    const expected = detections(uninterrupted, stream);
    const first = make();
    const before = detections(first, stream.slice(0, 3100));
    // Simulate a restart: serialise through a JSON string, then carry on.
    const restored = restoreStreamDetector(JSON.parse(JSON.stringify(first.toJSON())) as StreamDetectorState);
    const after = detections(restored, stream.slice(3100)).map((i) => i + 3100);
    expect([...before, ...after]).toEqual(expected);
    expect(restored.toJSON()).toEqual(uninterrupted.toJSON());
    expect(expected.length).toBeGreaterThan(0);
  });

  it('rejects a state of the wrong type', () => {
    expect(() => AdwinDetector.fromJSON(new DdmDetector().toJSON() as never)).toThrow(RangeError);
  });
});
