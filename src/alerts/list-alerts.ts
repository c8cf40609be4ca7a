import type { AlertStore, DeliverySummary } from './alert-store.js';
import type { AlertStatus, Notification } from './types.js';

/** Query of `GET /v1/alerts`. */
export interface ListAlertsQuery {
  model?: string;
  status?: AlertStatus;
  /** Only notifications created at or after this time. */
  sinceMs?: number;
  /** @default 50 */
  limit?: number;
  /** @default 0 */
  offset?: number;
}

/** One notification as the API shows it: what was said, and how far each sink got. */
export interface ListedNotification extends Notification {
  deliveries: Omit<DeliverySummary, 'notificationId'>[];
}

export const MAX_LIST_LIMIT = 500;

/** Recent alert notifications, newest first, each with the delivery status per sink. */
export async function listAlerts(
  store: Pick<AlertStore, 'notifications' | 'deliveriesOf'>,
  query: ListAlertsQuery = {},
): Promise<ListedNotification[]> {
  const limit = Math.min(Math.max(1, Math.floor(query.limit ?? 50)), MAX_LIST_LIMIT);
  const offset = Math.max(0, Math.floor(query.offset ?? 0));
  const rows = await store.notifications({
    kind: 'alert',
    limit,
    offset,
    ...(query.model === undefined ? {} : { model: query.model }),
    ...(query.status === undefined ? {} : { status: query.status }),
    ...(query.sinceMs === undefined ? {} : { sinceMs: query.sinceMs }),
  });
  const deliveries = await store.deliveriesOf(rows.map((row) => row.notificationId));
  return rows.map((row) => ({
    ...(JSON.parse(row.body) as Notification),
    deliveries: deliveries
      .filter((d) => d.notificationId === row.notificationId)
      .map(({ notificationId: _ignored, ...rest }) => rest),
  }));
}
