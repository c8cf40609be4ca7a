/**
 * Performance estimation without labels (CBPE, DLE), multivariate drift (PCA reconstruction)
 * and attribution. Every estimator is fitted once on reference rows into a plain-JSON model
 * and then evaluated per window from aggregates only (aggregates.ts says exactly which).
 * See docs/detectors.md, "Estimated performance and multivariate drift".
 */
export * from './aggregates.js';
export * from './isotonic.js';
export * from './band.js';
export * from './score-grid.js';
export * from './confusion-metrics.js';
export * from './cbpe.js';
export * from './feature-columns.js';
export * from './additive-model.js';
export * from './dle.js';
export * from './linear-algebra.js';
export * from './reconstruction.js';
export * from './attribution.js';
