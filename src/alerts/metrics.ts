import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * Alerting metrics, on the daemon's registry. Labels are bounded: sink names and models come
 * from configuration, results and severities are fixed sets; never delivery ids.
 * Calling this twice with one registry returns the same metrics (a restarted Alerting in the
 * same process must not fail on "already registered").
 */
export function createAlertMetrics(registry: Registry) {
  const registers = [registry];
  const reuse = <T>(name: string, make: () => T): T =>
    (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    deliveries: reuse(
      'driftguard_alert_deliveries_total',
      () =>
        new Counter({
          name: 'driftguard_alert_deliveries_total',
          help: 'Delivery attempts by sink and result: delivered, failed (will be retried) or dead (given up).',
          labelNames: ['sink', 'result'] as const,
          registers,
        }),
    ),
    pending: reuse(
      'driftguard_alert_delivery_pending',
      () =>
        new Gauge({
          name: 'driftguard_alert_delivery_pending',
          help: 'Deliveries waiting to be sent or retried, per sink, as of the last dispatcher run.',
          labelNames: ['sink'] as const,
          registers,
        }),
    ),
    firing: reuse(
      'driftguard_alerts_firing',
      () =>
        new Gauge({
          name: 'driftguard_alerts_firing',
          help: 'Alerts currently firing, per model and severity.',
          labelNames: ['model', 'severity'] as const,
          registers,
        }),
    ),
    notifications: reuse(
      'driftguard_alert_notifications_total',
      () =>
        new Counter({
          name: 'driftguard_alert_notifications_total',
          help: 'Notifications produced by the alert policy, by group status (firing, resolved) or "event".',
          labelNames: ['status'] as const,
          registers,
        }),
    ),
    deliverySeconds: reuse(
      'driftguard_alert_delivery_seconds',
      () =>
        new Histogram({
          name: 'driftguard_alert_delivery_seconds',
          help: 'Time of one delivery attempt (all its HTTP requests), per sink.',
          labelNames: ['sink'] as const,
          buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          registers,
        }),
    ),
  };
}

export type AlertMetrics = ReturnType<typeof createAlertMetrics>;
