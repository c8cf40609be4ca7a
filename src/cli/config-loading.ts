import type { Command } from 'commander';
import { loadConfig, type CompiledConfig } from '../config/compile.js';

/** `--config <file>`, shared by every command that needs configuration. */
export function withConfigOption(command: Command): Command {
  return command.option(
    '-c, --config <file>',
    'YAML configuration file (environment variables override it; without it, defaults + environment)',
  );
}

export function configFromOptions(options: { config?: string }): CompiledConfig {
  return loadConfig({ file: options.config });
}
