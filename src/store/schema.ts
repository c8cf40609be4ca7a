import { ALERT_MIGRATIONS } from '../alerts/migrations.js';
import { MONITOR_MIGRATIONS } from '../monitor/migrations.js';
import { ESTIMATION_MIGRATIONS } from '../monitor/estimation/migrations.js';
import { ROLLUP_MIGRATIONS } from '../monitor/rollup-schema.js';
import { RETUNE_MIGRATIONS } from '../../retune/store/index.js';
import type { Migration } from '../../kernel/migrations.js';
import { EVENT_MIGRATIONS } from './event-migrations.js';

/**
 * Every module's migrations, in one list. Version ranges are owned by module: events 1-9,
 * monitor 10-19, alerts 20-29, retune 30-39.
 */
export const ALL_MIGRATIONS: readonly Migration[] = [
  ...EVENT_MIGRATIONS,
  ...MONITOR_MIGRATIONS,
  ...ROLLUP_MIGRATIONS,
  ...ESTIMATION_MIGRATIONS,
  ...ALERT_MIGRATIONS,
  ...RETUNE_MIGRATIONS,
];
