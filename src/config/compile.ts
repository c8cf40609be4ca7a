import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { DriftguardError } from '../../kernel/errors.js';
import { applyEnvOverrides } from './env.js';
import { configSchema, type Config } from './schema.js';
import type { DeepReadonly } from '../../kernel/deep-readonly.js';

/** The validated, frozen configuration every component receives. Never mutated after start. */
export type CompiledConfig = DeepReadonly<Config>;

export interface ConfigProblem {
  /** Dotted config path, e.g. `kafka.brokers[0]`. */
  readonly key: string;
  /** Where the value came from: the file, an environment variable, or the default. */
  readonly source: string;
  readonly value: string;
  readonly message: string;
}

export class ConfigError extends DriftguardError {
  readonly problems: readonly ConfigProblem[];
  constructor(problems: readonly ConfigProblem[]) {
    super(
      'CONFIG_INVALID',
      `invalid configuration:\n${problems.map((p) => `  - ${p.key} (${p.source}) = ${p.value}: ${p.message}`).join('\n')}`,
      { retriable: false },
    );
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /** YAML file; without one, defaults plus environment are the whole configuration. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

export function loadConfig(options: LoadConfigOptions = {}): CompiledConfig {
  const env = options.env ?? process.env;
  const source = options.file ?? 'defaults';
  const raw = options.file === undefined ? {} : readYamlFile(options.file);
  return compileConfig(raw, env, source);
}

export function compileConfig(raw: unknown, env: NodeJS.ProcessEnv = {}, fileLabel = 'file'): CompiledConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError([
      {
        key: '(root)',
        source: fileLabel,
        value: describeValue(raw),
        message: 'the configuration must be a YAML mapping of sections (kafka:, clickhouse:, ...)',
      },
    ]);
  }
  const { merged, problems: envProblems, applied } = applyEnvOverrides(raw as Record<string, unknown>, env);
  const problems: ConfigProblem[] = envProblems.map((p) => ({
    key: p.variable,
    source: 'environment',
    value: JSON.stringify(p.value),
    message: p.message,
  }));
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((issue) => toProblem(issue, merged, applied, fileLabel)));
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const config = parsed.data;
  const crossField = checkCrossFieldRules(config);
  if (crossField.length > 0) throw new ConfigError(crossField);
  return deepFreeze(config);
}

/** Rules that span fields; each names both values and the fix. */
function checkCrossFieldRules(config: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.kafka.heartbeatIntervalMs * 3 > config.kafka.sessionTimeoutMs) {
    problems.push({
      key: 'kafka.heartbeatIntervalMs',
      source: 'config',
      value: String(config.kafka.heartbeatIntervalMs),
      message: `must be at most a third of kafka.sessionTimeoutMs (${config.kafka.sessionTimeoutMs}) so that a slow heartbeat does not evict the consumer; lower it or raise the session timeout`,
    });
  }
  if (config.http.maxBodyBytesInFlight < config.http.maxBodyBytes) {
    problems.push({
      key: 'http.maxBodyBytesInFlight',
      source: 'config',
      value: String(config.http.maxBodyBytesInFlight),
      message: `must be at least http.maxBodyBytes (${config.http.maxBodyBytes}), or the largest accepted body could never be held; raise it or lower http.maxBodyBytes`,
    });
  }
  const topics = config.kafka.topics;
  if (topics.deadLetter === topics.predictions || topics.deadLetter === topics.outcomes) {
    problems.push({
      key: 'kafka.topics.deadLetter',
      source: 'config',
      value: topics.deadLetter,
      message:
        'must differ from the input topics, or rejected records would be consumed again; pick another name',
    });
  }
  const inputTopics = [topics.predictions, ...topics.inputs.map((input) => input.topic)];
  const duplicate = inputTopics.find((topic, index) => inputTopics.indexOf(topic) !== index);
  if (duplicate !== undefined) {
    problems.push({
      key: 'kafka.topics.inputs',
      source: 'config',
      value: duplicate,
      message: 'each input topic may be listed once; remove the duplicate',
    });
  }
  if (
    inputTopics.includes(topics.deadLetter) ||
    inputTopics.includes(topics.events) ||
    topics.outcomes === topics.events
  ) {
    problems.push({
      key: 'kafka.topics',
      source: 'config',
      value: '-',
      message: 'the dead-letter and events topics must not also be input topics',
    });
  }
  if (config.clickhouse.cluster !== undefined && config.store.engine === 'embedded') {
    problems.push({
      key: 'clickhouse.cluster',
      source: 'config',
      value: config.clickhouse.cluster,
      message:
        'needs a ClickHouse server, but the store is embedded: set clickhouse.url (DRIFTGUARD_CLICKHOUSE_URL) to a node of the cluster, or remove clickhouse.cluster',
    });
  }
  if (config.clickhouse.insertQuorum !== undefined && config.clickhouse.cluster === undefined) {
    problems.push({
      key: 'clickhouse.insertQuorum',
      source: 'config',
      value: String(config.clickhouse.insertQuorum),
      message: 'only applies on a cluster: set clickhouse.cluster too, or remove it',
    });
  }
  if (topics.predictions === topics.outcomes) {
    problems.push({
      key: 'kafka.topics.outcomes',
      source: 'config',
      value: topics.outcomes,
      message: 'must differ from kafka.topics.predictions',
    });
  }
  return problems;
}

function toProblem(
  issue: z.core.$ZodIssue,
  merged: unknown,
  applied: Map<string, string>,
  fileLabel: string,
): ConfigProblem {
  const key = formatPath(issue.path);
  const topKey = issue.path.filter((p) => typeof p === 'string').join('.');
  const variable = applied.get(topKey);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    message = `unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}: check the spelling against docs/configuration.md`;
    return { key: key || '(root)', source: fileLabel, value: '-', message };
  }
  const value = valueAt(merged, issue.path);
  return {
    key: key || '(root)',
    source: variable ? `environment ${variable}` : value === undefined ? 'default' : fileLabel,
    value: describeValue(value),
    message,
  };
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, part) =>
      typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part),
    '',
  );
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

function describeValue(value: unknown): string {
  if (value === undefined) return '(missing)';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function readYamlFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([
      {
        key: '(file)',
        source: file,
        value: '-',
        message: `cannot read the config file (${(error as Error).message}); check the --config path`,
      },
    ]);
  }
  try {
    return parseYaml(text) ?? {};
  } catch (error) {
    const where =
      error instanceof YAMLParseError && error.linePos
        ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}`
        : '';
    throw new ConfigError([
      {
        key: '(file)',
        source: file,
        value: '-',
        message: `not valid YAML${where}: ${(error as Error).message.split('\n')[0]}`,
      },
    ]);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
