/**
 * Generates docs/configuration.md from the configuration's zod schema: every option with its type,
 * unit, default and environment override from the schema itself (zod's JSON Schema), and its
 * description from the doc comment written beside it in the schema's source. A unit test
 * (test/unit/core/config-docs.test.ts) fails when the file and the schema disagree.
 *
 *   node --import tsx scripts/config-docs.ts --write     # rewrite docs/configuration.md
 *   node --import tsx scripts/config-docs.ts             # print it
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { z } from 'zod';
import { ENV_OVERRIDES } from '../src/config/env.js';
import { configSchema } from '../src/config/schema.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CONFIGURATION_DOC = path.join(root, 'docs', 'configuration.md');

// ---- descriptions: doc comments in the schema's source, by option path ----

interface SourceFile {
  readonly file: string;
  readonly source: ts.SourceFile;
}

const files = new Map<string, SourceFile>();

function load(file: string): SourceFile {
  let loaded = files.get(file);
  if (loaded === undefined) {
    const text = readFileSync(file, 'utf8');
    loaded = { file, source: ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true) };
    files.set(file, loaded);
  }
  return loaded;
}

/** The initializer of `name` in `file`: a local declaration, or the one an import points to. */
function resolve(name: string, at: SourceFile): { expression: ts.Expression; file: SourceFile } | undefined {
  for (const statement of at.source.statements) {
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations)
        if (ts.isIdentifier(declaration.name) && declaration.name.text === name && declaration.initializer)
          return { expression: declaration.initializer, file: at };
    }
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const bindings = statement.importClause?.namedBindings;
      if (bindings === undefined || !ts.isNamedImports(bindings)) continue;
      for (const element of bindings.elements) {
        if (element.name.text !== name) continue;
        const target = path.resolve(
          path.dirname(at.file),
          statement.moduleSpecifier.text.replace(/\.js$/, '.ts'),
        );
        const imported = (element.propertyName ?? element.name).text;
        const from = load(target);
        return resolve(imported, from) ?? resolveReExport(imported, from);
      }
    }
  }
  return undefined;
}

/** `export { x } from './y.js'` chains (index files). */
function resolveReExport(
  name: string,
  at: SourceFile,
): { expression: ts.Expression; file: SourceFile } | undefined {
  for (const statement of at.source.statements) {
    if (!ts.isExportDeclaration(statement) || statement.moduleSpecifier === undefined) continue;
    if (!ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const clause = statement.exportClause;
    if (
      clause !== undefined &&
      ts.isNamedExports(clause) &&
      !clause.elements.some((e) => e.name.text === name)
    )
      continue;
    const target = load(
      path.resolve(path.dirname(at.file), statement.moduleSpecifier.text.replace(/\.js$/, '.ts')),
    );
    const found = resolve(name, target) ?? resolveReExport(name, target);
    if (found !== undefined) return found;
  }
  return undefined;
}

function docOf(node: ts.Node): string {
  const parts: string[] = [];
  for (const doc of ts.getJSDocCommentsAndTags(node)) {
    if (!ts.isJSDoc(doc)) continue;
    const text = ts.getTextOfJSDocComment(doc.comment);
    if (text !== undefined && text.trim() !== '') parts.push(text.trim());
  }
  return parts.join(' ').replace(/\s+/g, ' ');
}

/** Walks a zod schema expression, recording the doc comment of every property by path. */
function walk(expression: ts.Expression, at: SourceFile, where: string, docs: Map<string, string>): void {
  if (ts.isParenthesizedExpression(expression) || ts.isAsExpression(expression))
    return walk(expression.expression, at, where, docs);
  if (ts.isIdentifier(expression)) {
    const found = resolve(expression.text, at);
    if (found !== undefined) walk(found.expression, found.file, where, docs);
    return;
  }
  if (!ts.isCallExpression(expression) || !ts.isPropertyAccessExpression(expression.expression)) return;
  const callee = expression.expression;
  const method = callee.name.text;
  const isZ = ts.isIdentifier(callee.expression) && callee.expression.text === 'z';
  const [first, second] = expression.arguments;
  if (isZ && method === 'object' && first !== undefined && ts.isObjectLiteralExpression(first))
    return properties(first, at, where, docs);
  if (isZ && method === 'array' && first !== undefined) return walk(first, at, `${where}[]`, docs);
  if (isZ && method === 'record' && second !== undefined) return walk(second, at, `${where}.<name>`, docs);
  const variants =
    isZ && method === 'discriminatedUnion' ? second : isZ && method === 'union' ? first : undefined;
  if (variants !== undefined && ts.isArrayLiteralExpression(variants)) {
    variants.elements.forEach((variant, i) => walk(variant, at, `${where}#${i}`, docs));
    return;
  }
  if (!isZ) walk(callee.expression, at, where, docs);
}

function properties(
  literal: ts.ObjectLiteralExpression,
  at: SourceFile,
  where: string,
  docs: Map<string, string>,
): void {
  for (const property of literal.properties) {
    if (ts.isSpreadAssignment(property) && ts.isIdentifier(property.expression)) {
      const found = resolve(property.expression.text, at);
      if (found !== undefined && ts.isObjectLiteralExpression(found.expression))
        properties(found.expression, found.file, where, docs);
      continue;
    }
    if (!ts.isPropertyAssignment(property)) continue;
    const name =
      ts.isIdentifier(property.name) || ts.isStringLiteral(property.name) ? property.name.text : undefined;
    if (name === undefined) continue;
    const key = where === '' ? name : `${where}.${name}`;
    const doc = docOf(property);
    if (doc !== '') docs.set(key, doc);
    walk(property.initializer, at, key, docs);
  }
}

function descriptions(): Map<string, string> {
  const docs = new Map<string, string>();
  const schemaFile = load(path.join(root, 'src', 'config', 'schema.ts'));
  const found = resolve('configSchema', schemaFile);
  if (found === undefined) throw new Error('configSchema not found in src/config/schema.ts');
  walk(found.expression, found.file, '', docs);
  return docs;
}

// ---- structure, types and defaults: the schema itself ----

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
}

interface Row {
  readonly key: string;
  /** The path as the descriptions are keyed (with `#i` for union variants). */
  readonly docKey: string;
  readonly type: string;
  readonly defaultValue: string;
  readonly variant: string;
}

function typeOf(schema: JsonSchema, name: string): string {
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  if (schema.enum !== undefined) return schema.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' | ');
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants !== undefined) return [...new Set(variants.map((v) => typeOf(v, name)))].join(' | ');
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : (schema.type ?? 'any');
  const bounds: string[] = [];
  const low = schema.minimum ?? schema.exclusiveMinimum;
  const high = schema.maximum ?? schema.exclusiveMaximum;
  if (low !== undefined && (low !== 0 || schema.exclusiveMinimum !== undefined))
    bounds.push(`${schema.exclusiveMinimum !== undefined ? '>' : '≥'} ${low}`);
  else if (low === 0) bounds.push('≥ 0');
  if (high !== undefined && Math.abs(high) < Number.MAX_SAFE_INTEGER)
    bounds.push(`${schema.exclusiveMaximum !== undefined ? '<' : '≤'} ${high}`);
  if (schema.minLength !== undefined && schema.minLength > 0) bounds.push(`length ≥ ${schema.minLength}`);
  if (schema.maxLength !== undefined) bounds.push(`length ≤ ${schema.maxLength}`);
  if (schema.minItems !== undefined && schema.minItems > 0) bounds.push(`≥ ${schema.minItems} items`);
  if (schema.maxItems !== undefined) bounds.push(`≤ ${schema.maxItems} items`);
  if (schema.pattern !== undefined) bounds.push(`matching \`${schema.pattern}\``);
  if (schema.format !== undefined) bounds.push(schema.format);
  const of =
    type === 'array' && schema.items !== undefined && !isStructured(schema.items)
      ? ` of ${typeOf(schema.items, name)}`
      : '';
  const unit = unitOf(name);
  return [`${type}${of}`, ...bounds, ...(unit === undefined ? [] : [unit])].join(', ');
}

/** The unit an option's name carries (the configuration's convention). */
function unitOf(name: string): string | undefined {
  if (/Ms$/.test(name)) return 'milliseconds';
  if (/Bytes(InFlight)?$/.test(name)) return 'bytes';
  if (/Days$/.test(name)) return 'days';
  if (/Fraction$|Share$|Rate$/.test(name)) return 'fraction of 1';
  return undefined;
}

function rows(schema: JsonSchema, key: string, docKey: string, variant: string, out: Row[]): void {
  const name = key.split(/[.[]/).at(-1) ?? key;
  if (key !== '') {
    const defaultValue =
      schema.default === undefined ||
      (typeof schema.default === 'object' &&
        schema.default !== null &&
        Object.keys(schema.default).length === 0 &&
        !Array.isArray(schema.default))
        ? ''
        : `\`${JSON.stringify(schema.default)}\``;
    out.push({ key, docKey, type: typeOf(schema, name), defaultValue, variant });
  }
  for (const [child, childSchema] of Object.entries(schema.properties ?? {}))
    rows(
      childSchema,
      key === '' ? child : `${key}.${child}`,
      docKey === '' ? child : `${docKey}.${child}`,
      variant,
      out,
    );
  if (schema.items !== undefined && isStructured(schema.items))
    rows(schema.items, `${key}[]`, `${docKey}[]`, variant, out);
  if (typeof schema.additionalProperties === 'object' && isStructured(schema.additionalProperties))
    rows(schema.additionalProperties, `${key}.<name>`, `${docKey}.<name>`, variant, out);
  const variants = schema.oneOf ?? schema.anyOf;
  if (variants !== undefined && variants.some((v) => v.properties !== undefined)) {
    variants.forEach((v, i) => {
      const tag = Object.values(v.properties ?? {}).find((p) => p.const !== undefined)?.const;
      const discriminator = Object.entries(v.properties ?? {}).find(([, p]) => p.const !== undefined);
      const label = discriminator === undefined ? `variant ${i + 1}` : `${discriminator[0]}: ${String(tag)}`;
      for (const [child, childSchema] of Object.entries(v.properties ?? {})) {
        if (childSchema.const !== undefined) continue;
        rows(childSchema, `${key}.${child}`, `${docKey}#${i}.${child}`, label, out);
      }
    });
  }
}

/** An object, or a union of objects: documented field by field. */
function isStructured(schema: JsonSchema): boolean {
  return (
    schema.properties !== undefined ||
    (schema.oneOf ?? schema.anyOf ?? []).some((v) => v.properties !== undefined)
  );
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The whole of docs/configuration.md. */
export function renderConfigurationDoc(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const docs = descriptions();
  const env = new Map(ENV_OVERRIDES.map((o) => [o.path.join('.'), o.variable]));
  const all: Row[] = [];
  rows(schema, '', '', '', all);
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `node --import tsx scripts/config-docs.ts --write`;',
    '     test/unit/core/config-docs.test.ts fails when this file and the schema disagree. Do not edit by hand. -->',
    '',
    'driftguard reads a YAML file (`--config <file>`) plus the environment overrides below, validates',
    'them once at start and runs on the frozen result. Every error names the key, the bad value, where',
    'it came from (file, environment variable or default) and the fix; `npx driftguard config check`',
    'runs the same validation without starting anything. Unknown keys are refused: check their',
    'spelling against this page. Units are in the option names (`…Ms` milliseconds, `…Bytes` bytes,',
    '`…Days` days). `<name>` stands for a key you choose (a model, a feature, a tensor).',
    '',
  ];
  const table = (body: readonly Row[]): void => {
    lines.push('| key | type | default | environment | description |', '|---|---|---|---|---|');
    for (const row of body) {
      const description = docs.get(row.docKey) ?? '';
      const variant = row.variant === '' ? '' : `(${row.variant}) `;
      const variable = env.get(row.key);
      lines.push(
        `| \`${row.key}\` | ${cell(row.type)} | ${cell(row.defaultValue)} | ${variable === undefined ? '' : `\`${variable}\``} | ${cell(variant + description)} |`,
      );
    }
    lines.push('');
  };
  const sectionOf = (row: Row): string => row.key.split(/[.[]/)[0] ?? '';
  const sections = [...new Set(all.map(sectionOf))];
  const topLevel = sections.filter((section) => all.filter((row) => sectionOf(row) === section).length === 1);
  for (const section of sections) {
    if (topLevel.includes(section)) continue;
    lines.push(`## \`${section}\``, '');
    const own = docs.get(section);
    if (own !== undefined) lines.push(own, '');
    table(all.filter((row) => sectionOf(row) === section && row.key !== section));
  }
  lines.push('## Top-level options', '');
  table(all.filter((row) => topLevel.includes(sectionOf(row))));
  return `${lines.join('\n').trimEnd()}\n`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const text = renderConfigurationDoc();
  if (process.argv.includes('--write')) writeFileSync(CONFIGURATION_DOC, text);
  else process.stdout.write(text);
}
