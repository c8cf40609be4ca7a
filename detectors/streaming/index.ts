/** Streaming detectors for metric streams, and one entry point to restore any of them from JSON. */
import { AdwinDetector, type AdwinState } from './adwin.js';
import { DdmDetector, type DdmState } from './ddm.js';
import { PageHinkleyDetector, type PageHinkleyState } from './page-hinkley.js';

export * from './adwin.js';
export * from './ddm.js';
export * from './page-hinkley.js';

export type StreamDetectorState = AdwinState | PageHinkleyState | DdmState;
export type StreamDetector = AdwinDetector | PageHinkleyDetector | DdmDetector;

/** Rebuilds a detector from its `toJSON()` output (e.g. after a daemon restart). */
export function restoreStreamDetector(state: StreamDetectorState): StreamDetector {
  switch (state.type) {
    case 'adwin':
      return AdwinDetector.fromJSON(state);
    case 'page_hinkley':
      return PageHinkleyDetector.fromJSON(state);
    case 'ddm':
      return DdmDetector.fromJSON(state);
  }
}
