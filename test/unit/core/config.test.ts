import { describe, expect, it } from 'vitest';
import { compileConfig, ConfigError } from '../../../src/config/compile.js';

function problemsOf(fn: () => unknown): ConfigError['problems'] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('compileConfig', () => {
  it('runs on defaults plus environment alone', () => {
    const config = compileConfig(
      {},
      {
        DRIFTGUARD_KAFKA_BROKERS: 'k1:9092, k2:9093',
        DRIFTGUARD_CLICKHOUSE_URL: 'http://ch:8123',
        DRIFTGUARD_HTTP_PORT: '9000',
        DRIFTGUARD_TOPIC_DEAD_LETTER: 'dlq',
        DRIFTGUARD_API_TOKEN: 'a-long-enough-secret-token',
      },
    );
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9093']);
    expect(config.clickhouse.url).toBe('http://ch:8123');
    expect(config.clickhouse.database).toBe('driftguard');
    expect(config.http).toMatchObject({
      host: '127.0.0.1',
      port: 9000,
      apiToken: 'a-long-enough-secret-token',
    });
    expect(config.kafka.topics).toEqual({
      predictions: 'predictions',
      outcomes: 'outcomes',
      deadLetter: 'dlq',
      inputs: [],
      events: 'driftguard.events',
    });
    expect(Object.isFrozen(config.kafka.topics)).toBe(true);
  });

  it('lets the environment override the file', () => {
    const config = compileConfig(
      { kafka: { consumerGroup: 'from-file' } },
      { DRIFTGUARD_CONSUMER_GROUP: 'from-env' },
    );
    expect(config.kafka.consumerGroup).toBe('from-env');
  });

  it('names the key, the value, its source and the fix', () => {
    const problems = problemsOf(() =>
      compileConfig(
        { kafka: { brokers: ['nohost'] }, clickhouse: { databse: 'x' } },
        { DRIFTGUARD_HTTP_PORT: 'eighty' },
        'cfg.yaml',
      ),
    );
    expect(problems).toContainEqual({
      key: 'DRIFTGUARD_HTTP_PORT',
      source: 'environment',
      value: '"eighty"',
      message: 'expected a whole number',
    });
    expect(problems).toContainEqual(
      expect.objectContaining({ key: 'kafka.brokers[0]', source: 'cfg.yaml', value: '"nohost"' }),
    );
    expect(problems).toContainEqual(
      expect.objectContaining({ key: 'clickhouse', message: expect.stringContaining('"databse"') as string }),
    );
  });

  it('attributes a bad value to the environment variable that set it', () => {
    const problems = problemsOf(() => compileConfig({}, { DRIFTGUARD_CLICKHOUSE_DATABASE: 'drop table;' }));
    expect(problems[0]).toMatchObject({
      key: 'clickhouse.database',
      source: 'environment DRIFTGUARD_CLICKHOUSE_DATABASE',
    });
  });

  it('checks rules across fields at compile time', () => {
    const problems = problemsOf(() =>
      compileConfig({
        kafka: {
          heartbeatIntervalMs: 20_000,
          sessionTimeoutMs: 30_000,
          topics: { deadLetter: 'predictions' },
        },
      }),
    );
    expect(problems.map((p) => p.key)).toEqual([
      'kafka.heartbeatIntervalMs',
      'kafka.topics.deadLetter',
      'kafka.topics',
    ]);
    expect(problems[0]?.message).toContain('sessionTimeoutMs');
  });

  it('refuses an input topic listed twice', () => {
    const problems = problemsOf(() =>
      compileConfig({ kafka: { topics: { inputs: [{ topic: 'predictions' }] } } }),
    );
    expect(problems[0]).toMatchObject({ key: 'kafka.topics.inputs', value: 'predictions' });
  });

  it('reads the cluster from DRIFTGUARD_CLICKHOUSE_CLUSTER and refuses it without a server', () => {
    const config = compileConfig(
      { clickhouse: { insertQuorum: 2 } },
      { DRIFTGUARD_CLICKHOUSE_URL: 'http://ch-1:8123', DRIFTGUARD_CLICKHOUSE_CLUSTER: 'events' },
    );
    expect(config.clickhouse).toMatchObject({ url: 'http://ch-1:8123', cluster: 'events', insertQuorum: 2 });
    expect(config.store.engine).toBe('server');
    const problems = problemsOf(() => compileConfig({ clickhouse: { cluster: 'events' } }, {}));
    expect(problems).toEqual([
      expect.objectContaining({
        key: 'clickhouse.cluster',
        value: 'events',
        message: expect.stringContaining('set clickhouse.url (DRIFTGUARD_CLICKHOUSE_URL)') as string,
      }),
    ]);
    expect(
      problemsOf(() => compileConfig({ clickhouse: { url: 'http://ch:8123', insertQuorum: 2 } }, {}))[0],
    ).toMatchObject({
      key: 'clickhouse.insertQuorum',
      message: expect.stringContaining('clickhouse.cluster') as string,
    });
    expect(
      problemsOf(() => compileConfig({}, { DRIFTGUARD_CLICKHOUSE_CLUSTER: 'two words' }))[0],
    ).toMatchObject({ key: 'clickhouse.cluster', source: 'environment DRIFTGUARD_CLICKHOUSE_CLUSTER' });
  });

  it('refuses a short API token', () => {
    expect(problemsOf(() => compileConfig({}, { DRIFTGUARD_API_TOKEN: 'short' }))[0]).toMatchObject({
      key: 'http.apiToken',
    });
  });

  it('refuses detector names the registry does not have, or that cannot test the feature kind, naming the valid ones', () => {
    const problems = problemsOf(() =>
      compileConfig(
        {
          monitoring: {
            models: {
              fraud: {
                detectors: { numeric: [{ name: 'ks' }, { name: 'kss' }], categorical: [{ name: 'ks' }] },
              },
            },
          },
        },
        {},
        'my.yaml',
      ),
    );
    expect(problems.map((p) => [p.key, p.value, p.source])).toEqual([
      ['monitoring.models.fraud.detectors.numeric[1].name', '"kss"', 'my.yaml'],
      ['monitoring.models.fraud.detectors.categorical[0].name', '"ks"', 'my.yaml'],
    ]);
    expect(problems[0]?.message).toBe(
      'unknown detector "kss"; for numeric features use one of: ks, psi, wasserstein, jensen_shannon, hellinger, energy, cramer_von_mises (docs/detectors.md)',
    );
    expect(problems[1]?.message).toContain(
      'does not test categorical features; for categorical features use one of: psi, jensen_shannon',
    );
  });

  it('refuses model names that are path specials wherever a config names a model', () => {
    const problems = problemsOf(() =>
      compileConfig({
        monitoring: { models: { '..': {} } },
        decoders: { model: '.', models: { '-x': { inputs: { input0: ['a'] } } } },
        retune: { models: ['..'] },
      }),
    );
    expect(problems.map((p) => p.key).sort()).toEqual(
      ['decoders.model', 'decoders.models.-x', 'monitoring.models...', 'retune.models[0]'].sort(),
    );
  });

  it('refuses an in-flight body budget smaller than the largest body', () => {
    const problems = problemsOf(() =>
      compileConfig({ http: { maxBodyBytes: 1_000_000, maxBodyBytesInFlight: 10 } }),
    );
    expect(problems.map((p) => p.key)).toEqual(['http.maxBodyBytesInFlight']);
  });
});
