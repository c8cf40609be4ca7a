import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../../../kernel/logger.js';
import { readFeatureRows, splitFile } from '../../data/dataset-files.js';
import { TrainerError } from '../errors.js';
import { parseMetricLine } from '../metric-lines.js';
import type { DatasetRef, Trainer, TrialRequest, TrialResult } from '../trainer.js';
import {
  compileCommandTrainerOptions,
  substituteArgv,
  type CommandTrainerOptions,
  type CompiledCommandTrainerOptions,
} from './options.js';
import { ProcessRun, type ProcessOutcome } from './run-process.js';

/**
 * Runs a user's training program per trial (see docs/trainers.md for the contract). Metrics
 * come from its stdout; each intermediate value of the objective goes to `request.report`, and
 * a prune answer stops the program (SIGTERM, then SIGKILL after the grace).
 */
export class CommandTrainer implements Trainer {
  readonly name = 'command';
  readonly options: CompiledCommandTrainerOptions;
  private readonly logger: Logger | undefined;

  constructor(options: CommandTrainerOptions, deps: { logger?: Logger } = {}) {
    this.options = compileCommandTrainerOptions(options);
    this.logger = deps.logger?.child({ component: 'command-trainer' });
  }

  async train(request: TrialRequest): Promise<TrialResult> {
    await mkdir(request.artifactDir, { recursive: true });
    const paramsFile = path.join(request.artifactDir, 'params.json');
    const paramsJson = JSON.stringify(request.params);
    await writeFile(paramsFile, `${paramsJson}\n`);
    const trialName = trialNameOf(request);
    const log = this.logger?.child({ trial: trialName, device: request.device });
    for (let attempt = 0; ; attempt++) {
      const { outcome, result } = await this.attempt(request, trialName, paramsFile, paramsJson, attempt);
      if (result !== undefined) {
        log?.info({ attempt, pruned: result.pruned, objective: result.objective }, 'trial finished');
        return result;
      }
      const crash = crashError(outcome, trialName, attempt);
      const canRetry = crash.retriable && attempt < this.options.maxRetries && !request.signal.aborted;
      log?.warn(
        { attempt, exitCode: outcome.exitCode, exitSignal: outcome.exitSignal, retry: canRetry },
        crash.message,
      );
      if (!canRetry) throw crash;
    }
  }

  private async attempt(
    request: TrialRequest,
    trialName: string,
    paramsFile: string,
    paramsJson: string,
    attempt: number,
  ): Promise<{ outcome: ProcessOutcome; result?: TrialResult }> {
    const metrics: Record<string, number> = {};
    const finalMetrics: Record<string, number> = {};
    let lastObjective: number | undefined;
    let reports = 0;
    let pruned = false;
    let reportError: unknown;
    const argv = substituteArgv(this.options.argv, {
      params_file: paramsFile,
      data_dir: request.dataset.dir,
      artifact_dir: request.artifactDir,
      trial: trialName,
    });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...this.options.env,
      DRIFTGUARD_TRIAL_NAME: trialName,
      DRIFTGUARD_TRIAL_NUMBER: String(request.trialNumber),
      DRIFTGUARD_STUDY_ID: request.studyId,
      DRIFTGUARD_MODEL: request.model,
      DRIFTGUARD_OBJECTIVE: request.objective,
      DRIFTGUARD_TRIAL_PARAMS: paramsJson,
      DRIFTGUARD_PARAMS_FILE: paramsFile,
      DRIFTGUARD_DATA_DIR: request.dataset.dir,
      DRIFTGUARD_ARTIFACT_DIR: request.artifactDir,
      DRIFTGUARD_ATTEMPT: String(attempt),
    };
    if (request.device !== undefined) env['CUDA_VISIBLE_DEVICES'] = request.device;
    const logFile = path.join(request.artifactDir, 'trial.log');
    await writeFile(logFile, `--- attempt ${attempt}: ${JSON.stringify(argv)}\n`, { flag: 'a' });
    const run: ProcessRun = new ProcessRun({
      argv,
      cwd: this.options.cwd,
      env,
      timeoutMs: this.options.timeoutMs,
      killGraceMs: this.options.killGraceMs,
      signal: request.signal,
      logFile,
      logTailChars: this.options.logTailChars,
      pidFileDir: request.artifactDir,
      onStdoutLine: (line) => {
        if (pruned || reportError !== undefined) return;
        const parsed = parseMetricLine(line, { stepKeys: this.options.stepKeys });
        if (parsed === undefined) return;
        Object.assign(metrics, parsed.metrics);
        if (parsed.final) {
          Object.assign(finalMetrics, parsed.metrics);
          return;
        }
        const value = parsed.metrics[request.objective];
        if (value === undefined) return;
        lastObjective = value;
        reports++;
        // Without an explicit step, the n-th report of the objective is step n (epochs from 1).
        const step = parsed.step ?? reports;
        let prune: boolean;
        try {
          prune = request.report(step, value).prune;
        } catch (error) {
          // Thrown inside a stream callback it would be uncaught: stop the program, rethrow below.
          reportError ??= error;
          run.stop('cancelled');
          return;
        }
        if (prune) {
          pruned = true;
          run.stop('pruned');
        }
      },
    });
    const outcome = await run.run();
    if (reportError !== undefined)
      throw reportError instanceof Error
        ? reportError
        : new TrainerError('TRIAL_CANCELLED', `report() threw a non-error for trial ${trialName}`, {
            cause: reportError,
          });
    if (pruned) {
      return {
        outcome,
        result: {
          objective: lastObjective ?? Number.NaN,
          metrics,
          pruned: true,
          artifactPath: request.artifactDir,
          logTail: outcome.logTail,
        },
      };
    }
    if (outcome.stoppedBy === 'cancelled')
      throw new TrainerError('TRIAL_CANCELLED', `trial ${trialName} was cancelled`, {
        details: { trial: trialName },
        cause: request.signal.reason,
      });
    if (outcome.stoppedBy === 'timeout')
      throw new TrainerError(
        'TRIAL_TIMEOUT',
        `trial ${trialName} ran past trainer.timeoutMs (${this.options.timeoutMs} ms) and was killed; raise the limit or shorten the trial`,
        { details: { trial: trialName, logTail: outcome.logTail } },
      );
    if (outcome.spawnError !== undefined || outcome.exitCode !== 0) return { outcome };
    const objective = finalMetrics[request.objective] ?? lastObjective;
    if (objective === undefined)
      throw new TrainerError(
        'TRIAL_NO_OBJECTIVE',
        `trial ${trialName} exited 0 without reporting ${request.objective}: print "${request.objective}=<value>" or a JSON line {"${request.objective}": <value>} on stdout`,
        { details: { trial: trialName, logTail: outcome.logTail } },
      );
    return {
      outcome,
      result: {
        objective,
        metrics: { ...metrics, ...finalMetrics },
        pruned: false,
        artifactPath: request.artifactDir,
        logTail: outcome.logTail,
      },
    };
  }

  async predict(
    artifactPath: string,
    dataset: DatasetRef,
    split: 'holdout' | 'validation',
  ): Promise<Array<string | number>> {
    const predictArgv = this.options.predictArgv;
    if (predictArgv === undefined)
      throw new TrainerError(
        'TRAINER_CONFIG_INVALID',
        'the command trainer has no predictArgv: set trainer.predictArgv to a program that writes {"id","prediction"} JSON lines to {output_file}',
      );
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'driftguard-predict-'));
    try {
      const outputFile = path.join(scratch, 'predictions.jsonl');
      const argv = substituteArgv(predictArgv, {
        artifact_path: artifactPath,
        data_dir: dataset.dir,
        split,
        split_file: splitFile(dataset.dir, split),
        output_file: outputFile,
      });
      const outcome = await new ProcessRun({
        argv,
        cwd: this.options.cwd,
        env: {
          ...process.env,
          ...this.options.env,
          DRIFTGUARD_ARTIFACT_PATH: artifactPath,
          DRIFTGUARD_DATA_DIR: dataset.dir,
          DRIFTGUARD_SPLIT: split,
          DRIFTGUARD_OUTPUT_FILE: outputFile,
        },
        timeoutMs: this.options.predictTimeoutMs,
        killGraceMs: this.options.killGraceMs,
        logTailChars: this.options.logTailChars,
      }).run();
      if (outcome.spawnError !== undefined || outcome.exitCode !== 0 || outcome.stoppedBy !== undefined)
        throw new TrainerError(
          'PREDICT_FAILED',
          `predict program ${JSON.stringify(argv[0])} failed (${describeExit(outcome)})`,
          {
            details: { logTail: outcome.logTail },
            cause: outcome.spawnError,
          },
        );
      return await predictionsInSplitOrder(outputFile, dataset.dir, split);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
}

/** Reads `{"id","prediction"}` lines and returns predictions in the split file's row order. */
export async function predictionsInSplitOrder(
  outputFile: string,
  datasetDir: string,
  split: 'holdout' | 'validation',
): Promise<Array<string | number>> {
  let text: string;
  try {
    text = await readFile(outputFile, 'utf8');
  } catch (error) {
    throw new TrainerError('PREDICT_FAILED', `predict program wrote no ${outputFile}`, { cause: error });
  }
  const byId = new Map<string, string | number>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as { id?: unknown; prediction?: unknown };
    if (
      typeof row.id !== 'string' ||
      (typeof row.prediction !== 'string' && typeof row.prediction !== 'number')
    )
      throw new TrainerError(
        'PREDICT_FAILED',
        `bad prediction line ${JSON.stringify(line.slice(0, 200))}: want {"id": string, "prediction": string|number}`,
      );
    byId.set(row.id, row.prediction);
  }
  const rows = await readFeatureRows(datasetDir, split);
  return rows.map((row) => {
    const prediction = byId.get(row.id);
    if (prediction === undefined)
      throw new TrainerError(
        'PREDICT_FAILED',
        `no prediction for id ${JSON.stringify(row.id)} of the ${split} split`,
      );
    return prediction;
  });
}

function trialNameOf(request: TrialRequest): string {
  const clean = `${request.model}-${request.studyId}-${request.trialNumber}`.replace(
    /[^A-Za-z0-9_.-]+/g,
    '_',
  );
  return clean.slice(-120);
}

function describeExit(outcome: ProcessOutcome): string {
  if (outcome.spawnError !== undefined) return `could not start: ${outcome.spawnError.message}`;
  if (outcome.stoppedBy !== undefined) return `stopped: ${outcome.stoppedBy}`;
  if (outcome.exitSignal !== null) return `killed by ${outcome.exitSignal}`;
  return `exit code ${outcome.exitCode}`;
}

function crashError(outcome: ProcessOutcome, trialName: string, attempt: number): TrainerError {
  // A program that cannot even start will not start on a retry either.
  const retriable = outcome.spawnError === undefined;
  return new TrainerError(
    'TRIAL_CRASHED',
    `trial ${trialName} attempt ${attempt} crashed (${describeExit(outcome)})`,
    {
      retriable,
      cause: outcome.spawnError,
      details: {
        trial: trialName,
        attempt,
        exitCode: outcome.exitCode,
        exitSignal: outcome.exitSignal,
        logTail: outcome.logTail,
      },
    },
  );
}
