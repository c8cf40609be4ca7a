import type { Command } from 'commander';
import { ConfigError } from '../config/compile.js';
import { configFromOptions, withConfigOption } from './config-loading.js';

/** `driftguard config check`: validates the configuration without starting anything. */
export function registerConfigCommand(program: Command): void {
  const config = program.command('config').description('Inspect and validate configuration');
  withConfigOption(
    config
      .command('check')
      .description('Validate the config file plus environment overrides; print the effective configuration'),
  )
    .option('--json', 'print the effective configuration as JSON')
    .action((options: { config?: string; json?: boolean }) => {
      try {
        const compiled = configFromOptions(options);
        const redacted = {
          ...compiled,
          http: { ...compiled.http, apiToken: compiled.http.apiToken ? '[redacted]' : undefined },
          clickhouse: { ...compiled.clickhouse, password: compiled.clickhouse.password ? '[redacted]' : '' },
        };
        if (options.json)
          process.stdout.write(`${JSON.stringify({ valid: true, config: redacted }, null, 2)}\n`);
        else
          process.stdout.write(
            `configuration is valid${options.config ? ` (${options.config})` : ' (defaults + environment)'}\n${JSON.stringify(redacted, null, 2)}\n`,
          );
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        if (options.json)
          process.stdout.write(`${JSON.stringify({ valid: false, problems: error.problems }, null, 2)}\n`);
        else process.stderr.write(`${error.message}\n`);
        process.exitCode = 2;
      }
    });
}
