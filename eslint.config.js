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
  'chdb',
  'express',
  'prom-client',
  'pino',
];

/** The storage backends' clients are the store adapters' private business. */
const storeClients = ['@clickhouse/client', 'chdb'].map((name) => ({
  name,
  message:
    'Only the store adapters (src/store/*-store.ts) use a ClickHouse client: take the Store port (kernel/store.ts).',
}));
const storeClientPatterns = [
  { group: ['@clickhouse/*', 'chdb/*'], message: 'Only the store adapters use a ClickHouse client.' },
];

// ESLint applies the last matching block's options of a rule, so each block below lists every
// restriction that holds for its files.
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
      'no-restricted-imports': ['error', { paths: storeClients, patterns: storeClientPatterns }],
    },
  },
  {
    // The daemon's promises are awaited or end in a handler: `void promise` hides a rejection that
    // would kill the process (Node's default for unhandled rejections).
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }] },
  },
  {
    files: ['src/store/clickhouse-server.ts', 'src/store/embedded-store.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // The shared kernel (errors, retry, logger, SQL escaping, the Store port, migrations) is
    // imported by the daemon (src/) and by retune/; it imports neither.
    files: ['kernel/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: storeClients,
          patterns: [
            ...storeClientPatterns,
            {
              group: ['**/src/**', '**/retune/**', '**/detectors/**'],
              message: 'kernel/ is shared by src/ and retune/: it imports neither.',
            },
          ],
        },
      ],
    },
  },
  {
    // retune/ depends on the kernel and detectors/, never on the daemon: the composition root
    // (src/daemon) is the one place that knows every subsystem.
    files: ['retune/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: storeClients,
          patterns: [
            ...storeClientPatterns,
            {
              group: ['**/src/**', '../src/*', '../../src/*'],
              message: 'retune/ must not import the daemon (src/): use kernel/ or a port of its own.',
            },
          ],
        },
      ],
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
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly' },
    },
  },
);
