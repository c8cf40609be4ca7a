import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_DOC, renderConfigurationDoc } from '../../../scripts/config-docs.js';
import { ENV_OVERRIDES } from '../../../src/config/env.js';

/**
 * docs/configuration.md is generated from the configuration schema (its types, defaults and doc
 * comments) and must match it: error messages send users there. Regenerate with
 * `node --import tsx scripts/config-docs.ts --write`.
 */
describe('docs/configuration.md', () => {
  const rendered = renderConfigurationDoc();

  it('is what the schema generates today', () => {
    expect(readFileSync(CONFIGURATION_DOC, 'utf8')).toBe(rendered);
  });

  it('names every option with its default, unit and environment variable', () => {
    for (const key of [
      'kafka.brokers',
      'ingest.maxEventBytes',
      'ingest.stallAfterMs',
      'http.maxBodyBytesInFlight',
      'monitoring.models.<name>.detectors.numeric[].name',
      'alerts.sinks[].secret',
      'retune.modelStoreDir',
      'shutdownGraceMs',
    ])
      expect(rendered).toContain(`| \`${key}\` |`);
    expect(rendered).toMatch(/\| `ingest\.flushIntervalMs` \| integer, ≥ 0, milliseconds \| `200` \|/);
    for (const override of ENV_OVERRIDES) expect(rendered).toContain(`\`${override.variable}\``);
  });
});
