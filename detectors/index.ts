/**
 * driftguard detectors: pure statistics for drift monitoring (no I/O, no imports from src/).
 * See docs/detectors.md for the detector table, the default decision rule and error bounds.
 */
export * from './result.js';
export * from './numeric-input.js';
export * from './binning.js';
export * from './divergences.js';
export * from './ks.js';
export * from './cramer-von-mises.js';
export * from './distances.js';
export * from './numeric-binned.js';
export * from './categorical.js';
export * from './profiles/numeric-profile.js';
export * from './profiles/categorical-profile.js';
export * from './profiles/profile-tests.js';
export * from './streaming/index.js';
export * from './metrics/classification.js';
export * from './metrics/regression.js';
export * from './decision.js';
export * from './feature-evidence.js';
export * from './registry.js';
export * from './estimation/index.js';
export { kstwoSf, smirnovSf } from './distributions/kolmogorov.js';
export { chiSquareSf } from './distributions/chi-square.js';
export { cvmAsymptoticPValue, cvmExactPValue } from './distributions/cramer-von-mises.js';
