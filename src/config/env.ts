/**
 * Environment overrides: each variable sets one config path. Values are parsed by the path's
 * type so that `DRIFTGUARD_HTTP_PORT=abc` fails with the variable's name in the message.
 */
export interface EnvOverride {
  readonly variable: string;
  readonly path: readonly string[];
  readonly parse: 'string' | 'integer' | 'list' | 'boolean';
}

export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { variable: 'DRIFTGUARD_KAFKA_BROKERS', path: ['kafka', 'brokers'], parse: 'list' },
  { variable: 'DRIFTGUARD_CONSUMER_GROUP', path: ['kafka', 'consumerGroup'], parse: 'string' },
  { variable: 'DRIFTGUARD_TOPIC_PREDICTIONS', path: ['kafka', 'topics', 'predictions'], parse: 'string' },
  { variable: 'DRIFTGUARD_TOPIC_OUTCOMES', path: ['kafka', 'topics', 'outcomes'], parse: 'string' },
  { variable: 'DRIFTGUARD_TOPIC_DEAD_LETTER', path: ['kafka', 'topics', 'deadLetter'], parse: 'string' },
  { variable: 'DRIFTGUARD_CLICKHOUSE_URL', path: ['clickhouse', 'url'], parse: 'string' },
  { variable: 'DRIFTGUARD_CLICKHOUSE_DATABASE', path: ['clickhouse', 'database'], parse: 'string' },
  { variable: 'DRIFTGUARD_CLICKHOUSE_USER', path: ['clickhouse', 'username'], parse: 'string' },
  { variable: 'DRIFTGUARD_CLICKHOUSE_PASSWORD', path: ['clickhouse', 'password'], parse: 'string' },
  { variable: 'DRIFTGUARD_CLICKHOUSE_CLUSTER', path: ['clickhouse', 'cluster'], parse: 'string' },
  { variable: 'DRIFTGUARD_STORE', path: ['store', 'engine'], parse: 'string' },
  { variable: 'DRIFTGUARD_STORE_PATH', path: ['store', 'path'], parse: 'string' },
  { variable: 'DRIFTGUARD_HTTP_HOST', path: ['http', 'host'], parse: 'string' },
  { variable: 'DRIFTGUARD_HTTP_PORT', path: ['http', 'port'], parse: 'integer' },
  { variable: 'DRIFTGUARD_API_TOKEN', path: ['http', 'apiToken'], parse: 'string' },
  { variable: 'DRIFTGUARD_LOG_LEVEL', path: ['logLevel'], parse: 'string' },
];

export interface EnvProblem {
  readonly variable: string;
  readonly value: string;
  readonly message: string;
}

/** Applies the overrides present in `env` onto a copy of `raw`; returns problems instead of throwing. */
export function applyEnvOverrides(
  raw: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): { merged: Record<string, unknown>; problems: EnvProblem[]; applied: Map<string, string> } {
  const merged = structuredClone(raw);
  const problems: EnvProblem[] = [];
  // config path (dotted) → variable that set it, so validation errors can name the variable.
  const applied = new Map<string, string>();
  for (const override of ENV_OVERRIDES) {
    const text = env[override.variable];
    if (text === undefined || text === '') continue;
    let value: unknown;
    switch (override.parse) {
      case 'string':
        value = text;
        break;
      case 'integer':
        if (!/^\d+$/.test(text.trim())) {
          problems.push({ variable: override.variable, value: text, message: 'expected a whole number' });
          continue;
        }
        value = Number(text.trim());
        break;
      case 'list':
        value = text
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item.length > 0);
        break;
      case 'boolean':
        if (!/^(true|false|1|0)$/i.test(text.trim())) {
          problems.push({ variable: override.variable, value: text, message: 'expected true or false' });
          continue;
        }
        value = /^(true|1)$/i.test(text.trim());
        break;
    }
    setPath(merged, override.path, value);
    applied.set(override.path.join('.'), override.variable);
  }
  return { merged, problems, applied };
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      node[key] = {};
    }
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}
