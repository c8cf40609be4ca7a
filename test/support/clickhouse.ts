export interface ClickhouseQueryOptions {
  /** Database the query runs in. @default 'default' */
  database?: string;
  /** Extra ClickHouse settings, sent as URL parameters. */
  settings?: Record<string, string | number>;
}

/**
 * Runs `sql` over ClickHouse's HTTP interface with plain fetch (independent of the daemon's
 * client) and returns the rows of the `JSONEachRow` output; `[]` for statements without
 * output. Note: ClickHouse quotes 64-bit integers as strings in JSON.
 */
export async function clickhouseQuery<Row = Record<string, unknown>>(
  url: string,
  sql: string,
  options: ClickhouseQueryOptions = {},
): Promise<Row[]> {
  const target = new URL(url);
  target.searchParams.set('default_format', 'JSONEachRow');
  if (options.database !== undefined) target.searchParams.set('database', options.database);
  for (const [key, value] of Object.entries(options.settings ?? {}))
    target.searchParams.set(key, String(value));
  const response = await fetch(target, { method: 'POST', body: sql, signal: AbortSignal.timeout(60_000) });
  const body = await response.text();
  if (!response.ok)
    throw new Error(
      `ClickHouse answered ${response.status} to ${JSON.stringify(sql.slice(0, 200))}: ${body.trim()}`,
    );
  return body
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Row);
}

const identifierPattern = /^[a-z_][a-z0-9_]*$/i;

function checkIdentifier(name: string): string {
  if (!identifierPattern.test(name))
    throw new Error(`${JSON.stringify(name)} is not a plain ClickHouse identifier [A-Za-z_][A-Za-z0-9_]*`);
  return name;
}

export async function createDatabase(url: string, name: string): Promise<void> {
  await clickhouseQuery(url, `CREATE DATABASE IF NOT EXISTS ${checkIdentifier(name)}`);
}

export async function dropDatabase(url: string, name: string): Promise<void> {
  await clickhouseQuery(url, `DROP DATABASE IF EXISTS ${checkIdentifier(name)}`);
}
