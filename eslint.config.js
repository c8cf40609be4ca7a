// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = [
  'node:fs',
  'node:fs/promises',
  'node:net',
  'node:http',
  'node:https',
  'node:child_process',
  'fs',
  'fs/promises',
  'net',
  'http',
  'https',
  'child_process',
  'kafkajs',
  '@clickhouse/client',
  'express',
  'prom-client',
  'pino',
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.driftguard/**', 'dist/**', 'coverage/**', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    // detectors/ is pure statistics and the retune engine core is pure search logic:
    // no I/O libraries, no reaching into the daemon.
    files: ['detectors/**/*.ts', 'retune/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ioModules.map((name) => ({
            name,
            message: 'Pure module: no I/O here. Put adapters in src/ or retune/ adapters.',
          })),
          patterns: [
            {
              group: ['**/src/**', '../src/*', '../../src/*'],
              message: 'Pure module must not import the daemon (src/).',
            },
          ],
        },
      ],
    },
  },
  {
    // Fakes in tests implement async ports with plain values; an `await` there would be noise.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly' },
    },
  },
);
