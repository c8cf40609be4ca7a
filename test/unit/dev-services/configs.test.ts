import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { aptCommands, requiredBinaries } from '../../../src/dev-services/apt-install.js';
import { renderClickhouseConfig, renderClickhouseUsers } from '../../../src/dev-services/clickhouse.js';
import { endpointsFromEnv, endpointsToEnv } from '../../../src/dev-services/endpoints.js';
import { renderPrometheusConfig } from '../../../src/dev-services/prometheus.js';

describe('ClickHouse config', () => {
  const config = renderClickhouseConfig({
    dir: '/repo/.driftguard/services/clickhouse/',
    httpPort: 1001,
    tcpPort: 1002,
    interserverPort: 1003,
  });

  it('puts every path under the service folder and none under the system ones', () => {
    expect(config).not.toMatch(/\/var\/(lib|log)\//);
    expect(config).toContain('<path>/repo/.driftguard/services/clickhouse/data/</path>');
    expect(config).toContain('<log>/repo/.driftguard/services/clickhouse/logs/clickhouse-server.log</log>');
    expect(config).toContain('<console>0</console>');
  });

  it('listens on loopback on the given ports only (no MySQL/PostgreSQL ports)', () => {
    expect(config).toContain('<listen_host>127.0.0.1</listen_host>');
    expect(config).toContain('<http_port>1001</http_port>');
    expect(config).toContain('<tcp_port>1002</tcp_port>');
    expect(config).toContain('<interserver_http_port>1003</interserver_http_port>');
    expect(config).not.toMatch(/mysql_port|postgresql_port|8123|9000|9009/);
  });

  it('keeps memory modest', () => {
    expect(config).toContain('<mark_cache_size>268435456</mark_cache_size>');
    expect(renderClickhouseUsers()).toContain('<max_memory_usage>4294967296</max_memory_usage>');
  });

  it('refuses a folder that would break the XML', () => {
    expect(() =>
      renderClickhouseConfig({ dir: '/a<b', httpPort: 1, tcpPort: 2, interserverPort: 3 }),
    ).toThrow(/XML special characters/);
  });
});

describe('Prometheus config', () => {
  it('scrapes file_sd targets as job driftguard every 2 s and loads rule files', () => {
    const config = parse(
      renderPrometheusConfig({ targetsDir: '/s/targets', rulesDir: '/s/rules' }),
    ) as Record<string, unknown>;
    expect(config).toEqual({
      global: { scrape_interval: '2s', scrape_timeout: '2s', evaluation_interval: '2s' },
      rule_files: ['/s/rules/*.yml'],
      scrape_configs: [
        {
          job_name: 'driftguard',
          file_sd_configs: [{ files: ['/s/targets/*.json'], refresh_interval: '2s' }],
        },
      ],
    });
  });
});

describe('apt-get commands', () => {
  it('are none when nothing is missing', () => {
    expect(aptCommands([])).toEqual([]);
  });

  it('update once, then install, Prometheus without recommends', () => {
    expect(aptCommands(requiredBinaries)).toEqual([
      ['apt-get', 'update'],
      ['apt-get', 'install', '-y', 'clickhouse-server', 'clickhouse-client', 'kcat'],
      ['apt-get', 'install', '-y', '--no-install-recommends', 'prometheus'],
    ]);
  });

  it('install only what is missing', () => {
    const kcat = requiredBinaries.filter((item) => item.binary === 'kcat');
    expect(aptCommands(kcat)).toEqual([
      ['apt-get', 'update'],
      ['apt-get', 'install', '-y', 'kcat'],
    ]);
  });
});

describe('service endpoints in the environment', () => {
  const endpoints = {
    kafkaBrokers: '127.0.0.1:1',
    clickhouseUrl: 'http://127.0.0.1:2',
    clickhouseTcpPort: 3,
    prometheusUrl: 'http://127.0.0.1:4',
    prometheusTargetsDir: '/t',
    prometheusRulesDir: '/r',
  };

  it('round-trip through env variables', () => {
    const env = endpointsToEnv(endpoints);
    expect(env['DRIFTGUARD_KAFKA_BROKERS']).toBe('127.0.0.1:1');
    expect(env['DRIFTGUARD_CLICKHOUSE_TCP_PORT']).toBe('3');
    expect(endpointsFromEnv(env)).toEqual(endpoints);
  });

  it('name the missing or bad variable', () => {
    expect(() => endpointsFromEnv({})).toThrow(
      /DRIFTGUARD_CLICKHOUSE_TCP_PORT is not set|DRIFTGUARD_KAFKA_BROKERS is not set/,
    );
    expect(() =>
      endpointsFromEnv({ ...endpointsToEnv(endpoints), DRIFTGUARD_CLICKHOUSE_TCP_PORT: 'x' }),
    ).toThrow(/not a port/);
  });
});
