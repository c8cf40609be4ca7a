import type { Command } from 'commander';
import { ApiClient, modelPath, withApiOptions, type ApiCommandOptions } from './api-client.js';

/**
 * `driftguard retune <model>`, `studies`, `promote`, `rollback`: clients of the daemon's HTTP
 * API (see src/http/retune-routes.ts), authenticated with DRIFTGUARD_API_TOKEN. Human output by
 * default, one JSON document with `--json`; any failure throws, and main() prints it and exits 1.
 */
export interface RetuneCliDeps {
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default process.stdout */
  readonly stdout?: { write(text: string): unknown; isTTY?: boolean };
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Between two progress polls. @default 1000 */
  readonly pollMs?: number;
}

interface TrialJson {
  trial: number;
  state: string;
  value: number | null;
}
interface StudyJson {
  studyId: string;
  model: string;
  state: string;
  trigger: string;
  maxTrials: number;
  bestTrial: number;
  bestValue: number | null;
  objective: string;
  error: string;
  createdAt: string;
  trials?: TrialJson[];
  /** The data window (API `windowJson`): policy, onset, and while waiting the rows counted. */
  window?: {
    policy?: string;
    onset?: string;
    since?: string;
    until?: string;
    labelledRows?: number;
    neededRows?: number;
  } | null;
}

const fmt = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : Number(v.toPrecision(5)).toString();

/**
 * One line of progress: `[#####-----] 5/10 trials  best #3 = 0.012  running`, or while a
 * drift-triggered study waits: `waiting for labels: 340/1000 labelled rows after the drift onset …`.
 */
export function progressLine(study: StudyJson, width = 24): string {
  if (study.state === 'waiting') {
    const w = study.window ?? {};
    return `waiting for labels: ${w.labelledRows ?? 0}/${w.neededRows ?? '?'} labelled rows after the drift onset ${w.onset ?? '(unknown)'}`;
  }
  const trials = study.trials ?? [];
  const done = trials.filter((t) => t.state !== 'running').length;
  const total = Math.max(study.maxTrials, trials.length, 1);
  const filled = Math.min(width, Math.round((done / total) * width));
  const best = study.bestTrial >= 0 ? `best #${study.bestTrial} = ${fmt(study.bestValue)}` : 'best -';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} trials  ${best}  ${study.state}`;
}

export function registerRetuneCommands(program: Command, deps: RetuneCliDeps = {}): void {
  const out = deps.stdout ?? process.stdout;
  const print = (text: string): void => void out.write(text);

  withApiOptions(
    program
      .command('retune <model>')
      .description('Start a retune study for a model on the daemon and follow it to the promotion decision'),
  )
    .option('--force', 'ignore the cooldown between studies')
    .option('--no-wait', 'return the study id at once instead of following the study')
    .action(async (model: string, options: ApiCommandOptions & { force?: boolean; wait: boolean }) => {
      const api = new ApiClient(options.url, deps);
      const started = await api.call<{ studyId: string }>('POST', `${modelPath(model)}/retune`, {
        ...(options.force === true ? { force: true } : {}),
      });
      if (!options.wait) {
        print(
          options.json === true
            ? `${JSON.stringify(started)}\n`
            : `study ${started.studyId} started for ${model}\n`,
        );
        return;
      }
      const tty = out.isTTY === true && options.json !== true;
      if (options.json !== true) print(`study ${started.studyId} started for ${model}\n`);
      let last = '';
      let study: StudyJson;
      for (;;) {
        study = (
          await api.call<{ study: StudyJson }>('GET', `/v1/studies/${encodeURIComponent(started.studyId)}`)
        ).study;
        const line = progressLine(study);
        if (options.json !== true && line !== last) {
          print(tty ? `\r${line}` : `${line}\n`);
          last = line;
        }
        if (study.state !== 'running' && study.state !== 'waiting') break;
        await new Promise((resolve) => setTimeout(resolve, deps.pollMs ?? 1000));
      }
      if (tty) print('\n');
      const { decisions } = await api.call<{
        decisions: Array<{ studyId: string; promoted: boolean; reason: string }>;
      }>('GET', `${modelPath(model)}/decisions`);
      const decision = decisions.filter((d) => d.studyId === started.studyId).at(-1);
      if (options.json === true) print(`${JSON.stringify({ study, decision: decision ?? null })}\n`);
      else if (decision !== undefined) print(`${decision.reason}\n`);
      if (study.state !== 'completed') {
        throw new Error(
          `study ${study.studyId} ended ${study.state}${study.error === '' ? '' : `: ${study.error}`}`,
        );
      }
    });

  withApiOptions(program.command('studies').description('List retune studies'))
    .option('--model <model>', 'only this model')
    .option('--state <state>', 'waiting | running | completed | failed | cancelled')
    .option('--limit <n>', 'at most this many', '20')
    .action(async (options: ApiCommandOptions & { model?: string; state?: string; limit: string }) => {
      const api = new ApiClient(options.url, deps);
      const query = new URLSearchParams({ limit: options.limit });
      if (options.model !== undefined) query.set('model', options.model);
      if (options.state !== undefined) query.set('state', options.state);
      const { studies } = await api.call<{ studies: StudyJson[] }>('GET', `/v1/studies?${query.toString()}`);
      if (options.json === true) {
        print(`${JSON.stringify(studies)}\n`);
        return;
      }
      if (studies.length === 0) print('no studies\n');
      for (const s of studies) {
        print(
          `${s.studyId}  ${s.model}  ${s.state.padEnd(9)}  ${s.trigger.padEnd(7)}  best ${s.bestTrial >= 0 ? `#${s.bestTrial} ${s.objective}=${fmt(s.bestValue)}` : '-'}  ${s.createdAt}${s.error === '' ? '' : `  (${s.error})`}\n`,
        );
      }
    });

  const aliasChange = (
    what: string,
    event: { version: string; previousVersion: string },
    dryRun: boolean,
  ): string =>
    `${dryRun ? '[dry run] would move' : 'moved'} champion ${event.previousVersion || '(none)'} -> ${event.version} (${what})\n`;

  /** POSTs an alias change (promote or rollback) and prints the move, or the would-be move. */
  const changeAlias = async (
    action: 'promote' | 'rollback',
    model: string,
    options: ApiCommandOptions & { reason?: string; dryRun?: boolean },
    fields: Record<string, unknown>,
  ): Promise<void> => {
    const api = new ApiClient(options.url, deps);
    const result = await api.call<{
      dryRun: boolean;
      event: { version: string; previousVersion: string };
    }>('POST', `${modelPath(model)}/${action}`, {
      ...fields,
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      dryRun: options.dryRun === true,
    });
    print(
      options.json === true
        ? `${JSON.stringify(result)}\n`
        : aliasChange(action, result.event, result.dryRun),
    );
  };
  const actor = (): string => `cli:${(deps.env ?? process.env)['USER'] ?? 'unknown'}`;

  withApiOptions(
    program.command('promote <model> <version>').description('Make a model version the champion'),
  )
    .option('--reason <text>', 'why (kept in the audit history)')
    .option('--dry-run', 'validate and show the change without making it')
    .action(
      (model: string, version: string, options: ApiCommandOptions & { reason?: string; dryRun?: boolean }) =>
        changeAlias('promote', model, options, { version, actor: actor() }),
    );

  withApiOptions(
    program.command('rollback <model>').description('Move the champion back to the previous champion'),
  )
    .option('--to <version>', 'roll back to this version instead')
    .option('--reason <text>', 'why (kept in the audit history)')
    .option('--dry-run', 'validate and show the change without making it')
    .action(
      (model: string, options: ApiCommandOptions & { to?: string; reason?: string; dryRun?: boolean }) =>
        changeAlias('rollback', model, options, {
          actor: actor(),
          ...(options.to === undefined ? {} : { to: options.to }),
        }),
    );
}
