/**
 * `.driftguard/services.env`: `KEY=value` lines that both `source` (bash, with `set -a`) and
 * {@link parseEnvFile} read. Values that are not plain are single-quoted, shell style.
 */

const keyPattern = /^[A-Z_][A-Z0-9_]*$/;
const plainValuePattern = /^[A-Za-z0-9_@%+=:,./-]*$/;

export function formatEnvFile(values: Readonly<Record<string, string>>, header?: string): string {
  const lines: string[] = header === undefined ? [] : header.split('\n').map((line) => `# ${line}`.trimEnd());
  for (const [key, value] of Object.entries(values)) {
    if (!keyPattern.test(key))
      throw new Error(`invalid env variable name ${JSON.stringify(key)}: use [A-Z_][A-Z0-9_]*`);
    if (/[\n\r\0]/.test(value))
      throw new Error(`value of ${key} holds a line break or NUL, which an env file cannot carry`);
    lines.push(`${key}=${plainValuePattern.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Parses what {@link formatEnvFile} writes (plus `export KEY=value` and double-quoted values). */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [index, rawLine] of text.split(/\r?\n/).entries()) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match === null)
      throw new Error(`env file line ${index + 1} is not KEY=value: ${JSON.stringify(rawLine)}`);
    const [, key = '', rawValue = ''] = match;
    values[key] = unquote(rawValue, index + 1);
  }
  return values;
}

function unquote(raw: string, lineNumber: number): string {
  let value = '';
  let rest = raw;
  while (rest !== '') {
    if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      if (end < 0) throw new Error(`env file line ${lineNumber}: unterminated single quote`);
      value += rest.slice(1, end);
      rest = rest.slice(end + 1);
    } else if (rest.startsWith('"')) {
      const match = /^"((?:[^"\\]|\\.)*)"/.exec(rest);
      if (match === null) throw new Error(`env file line ${lineNumber}: unterminated double quote`);
      value += (match[1] ?? '').replace(/\\(.)/g, '$1');
      rest = rest.slice(match[0].length);
    } else if (rest.startsWith('\\')) {
      value += rest.slice(1, 2);
      rest = rest.slice(2);
    } else {
      const match = /^[^'"\\]+/.exec(rest);
      const chunk = match?.[0] ?? rest;
      value += chunk;
      rest = rest.slice(chunk.length);
    }
  }
  return value;
}
