import { Command, CommanderError } from 'commander';
import { registerConfigCommand } from './config-command.js';
import { registerDemoCommand } from '../demo/demo-command.js';
import { registerDevServicesCommand } from './dev-services-command.js';
import { registerMigrateCommand } from './migrate-command.js';
import { registerMonitorCommands } from './monitor-commands.js';
import { registerObserveCommands } from './observe-commands.js';
import { registerRetuneCommands } from './retune-commands.js';
import { DRIFTGUARD_VERSION } from '../version.js';
import { registerStartCommand } from './start-command.js';

/**
 * The `driftguard` command line. Each sub-command lives in its own file and registers itself
 * here; commands print human output by default and JSON with `--json`, and exit non-zero with a
 * clear message on failure.
 */
export function buildProgram(): Command {
  const program = new Command('driftguard')
    .description('Keeps ML models healthy in production: ingest, drift monitoring, alerts, retuning.')
    .version(DRIFTGUARD_VERSION)
    .showHelpAfterError()
    .exitOverride();
  registerStartCommand(program);
  registerMigrateCommand(program);
  registerConfigCommand(program);
  registerDevServicesCommand(program);
  registerMonitorCommands(program);
  registerObserveCommands(program);
  registerRetuneCommands(program);
  registerDemoCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`driftguard: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
