import { normal } from '../../kernel/seeded-random.js';

/**
 * Synthetic but realistic traffic for the demo: two models with their own feature mixes,
 * seeded so every run tells the same story, and a switch that injects drift into one of them.
 */
export interface DemoEvent {
  readonly prediction: Record<string, unknown>;
  /** The true label, sent later as an outcome (labels arrive late in real life). */
  readonly outcome: Record<string, unknown>;
}

function pick<T>(random: () => number, items: readonly T[], weights: readonly number[]): T {
  let u = random() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < items.length; i++) {
    u -= weights[i] as number;
    if (u <= 0) return items[i] as T;
  }
  return items[items.length - 1] as T;
}

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * `fraud`: card transactions, a classifier with scores. Under drift, amounts grow, a new country
 * mix appears and the relation between features and fraud changes (concept drift), so the
 * deployed model's accuracy drops.
 */
export function fraudEvent(random: () => number, i: number, nowMs: number, drifted: boolean): DemoEvent {
  const amount = round(Math.exp(3.5 + 0.9 * normal(random) + (drifted ? 1.1 : 0)));
  const country = pick(
    random,
    ['DE', 'FR', 'US', 'GB', 'BR'],
    drifted ? [10, 10, 20, 10, 50] : [35, 25, 20, 15, 5],
  );
  const device = pick(random, ['ios', 'android', 'web'], [40, 40, 20]);
  const accountAgeDays = Math.max(0, Math.round(400 + 300 * normal(random)));
  const hour = Math.floor(random() * 24);
  // The truth: large amounts on young accounts are fraud; under drift a fraud ring also works
  // through the web checkout (concept drift: the deployed model never saw that pattern).
  const risk =
    (amount > 120 ? 1.6 : 0) + (accountAgeDays < 150 ? 1.3 : 0) + (drifted && device === 'web' ? 3 : 0) - 2.2;
  const isFraud = random() < 1 / (1 + Math.exp(-2 * risk));
  // The deployed model learnt only the first rule.
  const modelRisk = (amount > 120 ? 1.6 : 0) + (accountAgeDays < 150 ? 1.3 : 0) - 2.2;
  const pFraud = round(1 / (1 + Math.exp(-2 * modelRisk)), 4);
  const id = `fraud-${i}`;
  return {
    prediction: {
      model: 'fraud',
      version: '1',
      id,
      timestamp: nowMs,
      features: { amount, country, device, account_age_days: accountAgeDays, hour },
      prediction: pFraud > 0.5 ? 'fraud' : 'ok',
      scores: { fraud: pFraud, ok: round(1 - pFraud, 4) },
    },
    outcome: { model: 'fraud', id, timestamp: nowMs, label: isFraud ? 'fraud' : 'ok' },
  };
}

/** `eta`: delivery-time regression; stays stationary in the demo (the control). */
export function etaEvent(random: () => number, i: number, nowMs: number): DemoEvent {
  const distanceKm = round(Math.max(0.3, 4 + 2.5 * normal(random)));
  const items = 1 + Math.floor(random() * 6);
  const weather = pick(random, ['clear', 'rain', 'snow'], [70, 25, 5]);
  const truth =
    8 +
    3.2 * distanceKm +
    0.8 * items +
    (weather === 'rain' ? 4 : weather === 'snow' ? 9 : 0) +
    2 * normal(random);
  const predicted =
    8.5 + 3.1 * distanceKm + 0.8 * items + (weather === 'rain' ? 3.5 : weather === 'snow' ? 8 : 0);
  const id = `eta-${i}`;
  return {
    prediction: {
      model: 'eta',
      version: '4',
      id,
      timestamp: nowMs,
      features: { distance_km: distanceKm, items, weather },
      prediction: round(predicted),
    },
    outcome: { model: 'eta', id, timestamp: nowMs, label: round(truth) },
  };
}
