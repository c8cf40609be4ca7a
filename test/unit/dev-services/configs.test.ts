import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { aptCommands, requiredBinaries } from '../../../src/dev-services/apt-install.js';
import { renderClickhouseConfig, renderClickhouseUsers } from '../../../src/dev-services/clickhouse.js';
import { endpointsFromEnv, endpointsToEnv } from '../../../src/dev-services/endpoints.js';
import { renderPrometheusConfig } from '../../../src/dev-services/prometheus.js';
import {
  clusterEndpointsFromEnv,
  clusterEndpointsToEnv,
  clusterNodes,
  renderClusterNodeConfig,
  type ClusterNodeSpec,
} from '../../../src/dev-services/cluster.js';
import { renderZookeeperConfig } from '../../../src/dev-services/zookeeper.js';

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

describe('local cluster configs', () => {
  const nodes = clusterNodes(
    2,
    2,
    Array.from({ length: 12 }, (_, i) => 2000 + i),
  );

  it('lays out 2 shards x 2 replicas, 3 ports each', () => {
    expect(nodes.map((n) => [n.name, n.shard, n.replica, n.httpPort, n.tcpPort, n.interserverPort])).toEqual([
      ['clickhouse-1-1', 1, 1, 2000, 2001, 2002],
      ['clickhouse-1-2', 1, 2, 2003, 2004, 2005],
      ['clickhouse-2-1', 2, 1, 2006, 2007, 2008],
      ['clickhouse-2-2', 2, 2, 2009, 2010, 2011],
    ]);
  });

  it('names every replica of every shard by its TCP port, the node macros, ZooKeeper and the DDL queue', () => {
    const xml = renderClusterNodeConfig({
      cluster: 'dg',
      nodes,
      self: nodes[2] as ClusterNodeSpec,
      zookeeperPort: 3000,
    });
    expect(xml).toContain(
      '<shard><internal_replication>true</internal_replication><replica><host>127.0.0.1</host><port>2001</port></replica><replica><host>127.0.0.1</host><port>2004</port></replica></shard>',
    );
    expect(xml).toContain('<port>2007</port></replica><replica><host>127.0.0.1</host><port>2010</port>');
    expect(xml).toMatch(/<macros>\s*<shard>2<\/shard>\s*<replica>clickhouse-2-1<\/replica>\s*<\/macros>/);
    expect(xml).toContain('<node><host>127.0.0.1</host><port>3000</port></node>');
    expect(xml).toContain('<session_timeout_ms>6000</session_timeout_ms>');
    expect(xml).toContain('<path>/clickhouse/task_queue/ddl</path>');
    // A replica killed mid-insert on a small table must still start (see cluster-faults).
    expect(xml).toMatch(
      /<merge_tree>\s*<replicated_max_ratio_of_wrong_parts>1<\/replicated_max_ratio_of_wrong_parts>\s*<\/merge_tree>/,
    );
    // An XML comment may not hold "--": ClickHouse refuses the whole file.
    const comments = [...xml.matchAll(/<!--([^]*?)-->/g)].map((match) => match[1]);
    expect(comments).toHaveLength(2);
    expect(comments.filter((body) => body?.includes('--'))).toEqual([]);
  });

  it('runs ZooKeeper on loopback with the probe commands and short sessions allowed', () => {
    const cfg = renderZookeeperConfig({ dataDir: '/d', clientPort: 3000 });
    expect(cfg).toContain('clientPort=3000\nclientPortAddress=127.0.0.1');
    expect(cfg).toContain('admin.enableServer=false');
    expect(cfg).toContain('4lw.commands.whitelist=ruok,srvr');
    expect(cfg).toContain('maxSessionTimeout=10000');
  });

  it('round-trips cluster.env', () => {
    const endpoints = {
      cluster: 'driftguard',
      clickhouseUrl: 'http://127.0.0.1:2000',
      nodeUrls: ['http://127.0.0.1:2000', 'http://127.0.0.1:2003'],
      zookeeper: '127.0.0.1:3000',
    };
    const env = clusterEndpointsToEnv(endpoints);
    expect(env).toMatchObject({
      DRIFTGUARD_CLICKHOUSE_URL: 'http://127.0.0.1:2000',
      DRIFTGUARD_CLICKHOUSE_CLUSTER: 'driftguard',
      DRIFTGUARD_CLICKHOUSE_NODES: 'http://127.0.0.1:2000,http://127.0.0.1:2003',
    });
    expect(clusterEndpointsFromEnv(env)).toEqual(endpoints);
    expect(() => clusterEndpointsFromEnv({})).toThrow('DRIFTGUARD_CLICKHOUSE_CLUSTER is not set');
  });
});
