/** The alerting subsystem's public surface for the daemon, the monitor and the HTTP API. */
export { Alerting, type AlertingDeps, type ModelEventInput } from './alerting.js';
export { ALERT_MIGRATIONS } from './migrations.js';
export {
  alertsSchema,
  compileAlertsOptions,
  type AlertsConfig,
  type AlertsConfigInput,
  type AlertsSectionInput,
  type CompiledAlerts,
  type SinkConfig,
} from './options.js';
export { listAlerts, MAX_LIST_LIMIT, type ListAlertsQuery, type ListedNotification } from './list-alerts.js';
export { createAlertMetrics, type AlertMetrics } from './metrics.js';
export type { DeliverySummary, DeliveryStatus } from './alert-store.js';
export type { DispatchSummary } from './dispatcher.js';
export type {
  AlertRecord,
  AlertStatus,
  ModelEvent,
  Notification,
  RuleEvaluation,
  Severity,
} from './types.js';
export {
  applyEvaluations,
  emptyPolicyState,
  parsePolicyState,
  type PolicyOptions,
  type PolicyState,
  type RuleState,
} from './policy.js';
export {
  signBody,
  signDelivery,
  verifyWebhookSignature,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  LEGACY_SIGNATURE_HEADER,
  DELIVERY_HEADER,
  EVENT_HEADER,
} from './sinks/webhook.js';
