import { randomBytes } from 'node:crypto';

/**
 * A fresh name for a test's topic, database or table: `<prefix>_<time>_<random>`, only
 * `[a-z0-9_]`, starting with a letter, so it is valid as a Kafka topic and a ClickHouse
 * identifier alike.
 */
export function uniqueName(prefix = 't'): string {
  let clean = prefix.toLowerCase().replace(/[^a-z0-9_]+/g, '_');
  if (!/^[a-z]/.test(clean)) clean = `t_${clean}`;
  return `${clean}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}
