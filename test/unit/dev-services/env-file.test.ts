import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatEnvFile, parseEnvFile } from '../../../src/dev-services/env-file.js';

describe('services.env format', () => {
  it('writes plain values bare and a commented header', () => {
    const text = formatEnvFile(
      { DRIFTGUARD_KAFKA_BROKERS: '127.0.0.1:4567', DRIFTGUARD_CLICKHOUSE_URL: 'http://127.0.0.1:8123' },
      'line one\nline two',
    );
    expect(text).toBe(
      '# line one\n# line two\nDRIFTGUARD_KAFKA_BROKERS=127.0.0.1:4567\nDRIFTGUARD_CLICKHOUSE_URL=http://127.0.0.1:8123\n',
    );
  });

  it("single-quotes values a shell would split, escaping '", () => {
    expect(formatEnvFile({ A: "it's a dir" })).toBe("A='it'\\''s a dir'\n");
  });

  it('round-trips any single-line value', () => {
    fc.assert(
      fc.property(
        fc.string().filter((value) => !/[\n\r\0]/.test(value)),
        (value) => {
          expect(parseEnvFile(formatEnvFile({ KEY: value }))).toEqual({ KEY: value });
        },
      ),
    );
  });

  it('reads blank lines, comments, export and double quotes', () => {
    expect(parseEnvFile('\n# c\nexport A=1\nB="x \\"y\\""\r\nC=\n')).toEqual({ A: '1', B: 'x "y"', C: '' });
  });

  it('refuses what it cannot write or read', () => {
    expect(() => formatEnvFile({ 'bad-name': 'x' })).toThrow(/invalid env variable name/);
    expect(() => formatEnvFile({ A: 'two\nlines' })).toThrow(/line break/);
    expect(() => parseEnvFile('not a pair')).toThrow(/line 1 is not KEY=value/);
    expect(() => parseEnvFile("A='open")).toThrow(/unterminated single quote/);
  });
});
