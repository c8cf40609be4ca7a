import type { Logger } from '../../kernel/logger.js';
import { CommandTrainer } from './command/command-trainer.js';
import type { CommandTrainerOptions } from './command/options.js';
import { TrainerError } from './errors.js';
import type { Trainer } from './trainer.js';
import { TfjsTrainer, type TfjsTrainerOptions } from './tfjs/tfjs-trainer.js';

/** The `retune.trainer` config section: which trainer a model's studies use. */
export type TrainerConfig = CommandTrainerOptions | TfjsTrainerOptions;

/** Builds the trainer named by `config.kind`, validating its options (throws at boot). */
export function createTrainer(config: TrainerConfig, deps: { logger?: Logger } = {}): Trainer {
  const kind = (config as { kind?: unknown }).kind;
  switch (config.kind) {
    case 'command':
      return new CommandTrainer(config, deps);
    case 'tfjs':
      return new TfjsTrainer(config, deps);
    default:
      throw new TrainerError(
        'TRAINER_CONFIG_INVALID',
        `unknown trainer kind ${JSON.stringify(kind)}: use 'tfjs' (built-in) or 'command' (your program)`,
      );
  }
}
