/**
 * The connection settings of the local services, as a typed object and as the environment
 * variables that `.driftguard/services.env` holds. The daemon's own config reads the same names.
 */
export interface ServicesEndpoints {
  /** `127.0.0.1:<port>`: the Kafka bootstrap broker (librdkafka mock cluster). */
  kafkaBrokers: string;
  /** `http://127.0.0.1:<port>`: ClickHouse's HTTP interface, user `default`, no password. */
  clickhouseUrl: string;
  /** ClickHouse's native TCP port, for `clickhouse-client --port`. */
  clickhouseTcpPort: number;
  /** `http://127.0.0.1:<port>`: Prometheus (lifecycle API enabled: `POST /-/reload`). */
  prometheusUrl: string;
  /** Folder of file_sd target files for the scrape job `driftguard`. */
  prometheusTargetsDir: string;
  /** Folder of rule files (`*.yml`) loaded on start and on `POST /-/reload`. */
  prometheusRulesDir: string;
}

export const envNames = Object.freeze({
  kafkaBrokers: 'DRIFTGUARD_KAFKA_BROKERS',
  clickhouseUrl: 'DRIFTGUARD_CLICKHOUSE_URL',
  clickhouseTcpPort: 'DRIFTGUARD_CLICKHOUSE_TCP_PORT',
  prometheusUrl: 'DRIFTGUARD_PROMETHEUS_URL',
  prometheusTargetsDir: 'DRIFTGUARD_PROMETHEUS_TARGETS_DIR',
  prometheusRulesDir: 'DRIFTGUARD_PROMETHEUS_RULES_DIR',
} satisfies Record<keyof ServicesEndpoints, string>);

/** The `services.env` variables for `endpoints` (plus the ClickHouse user, which is not a secret). */
export function endpointsToEnv(endpoints: ServicesEndpoints): Record<string, string> {
  return {
    [envNames.kafkaBrokers]: endpoints.kafkaBrokers,
    [envNames.clickhouseUrl]: endpoints.clickhouseUrl,
    [envNames.clickhouseTcpPort]: String(endpoints.clickhouseTcpPort),
    DRIFTGUARD_CLICKHOUSE_USER: 'default',
    [envNames.prometheusUrl]: endpoints.prometheusUrl,
    [envNames.prometheusTargetsDir]: endpoints.prometheusTargetsDir,
    [envNames.prometheusRulesDir]: endpoints.prometheusRulesDir,
  };
}

/** Reads the endpoints back from env variables; fails naming the first missing or bad one. */
export function endpointsFromEnv(env: Readonly<Record<string, string | undefined>>): ServicesEndpoints {
  const get = (key: keyof ServicesEndpoints): string => {
    const value = env[envNames[key]];
    if (value === undefined || value === '') throw new Error(`${envNames[key]} is not set`);
    return value;
  };
  const clickhouseTcpPort = Number(get('clickhouseTcpPort'));
  if (!Number.isInteger(clickhouseTcpPort) || clickhouseTcpPort <= 0 || clickhouseTcpPort > 65_535) {
    throw new Error(
      `${envNames.clickhouseTcpPort} is not a port: ${JSON.stringify(get('clickhouseTcpPort'))}`,
    );
  }
  return {
    kafkaBrokers: get('kafkaBrokers'),
    clickhouseUrl: get('clickhouseUrl'),
    clickhouseTcpPort,
    prometheusUrl: get('prometheusUrl'),
    prometheusTargetsDir: get('prometheusTargetsDir'),
    prometheusRulesDir: get('prometheusRulesDir'),
  };
}
