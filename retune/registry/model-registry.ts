/**
 * Model versions and the champion/challenger aliases, with the full history kept: every alias
 * move is an appended event (who, when, why, with the statistical evidence), and the current
 * aliases are the latest event per (model, alias). Rollback replays the champion history as a
 * stack: promote/set push, rollback pops back to the version it names, so two rollbacks in a
 * row walk back two champions instead of flipping between the last two.
 */
import { RetuneError } from './errors.js';
import type { AliasEvent, AliasName, ModelVersion, RegistryStorage } from '../store/types.js';

export interface AliasChangeOptions {
  /** Who asked: `retuner`, `api:<ip>`, `cli:<user>`... @default 'unknown' */
  readonly actor?: string;
  readonly reason?: string;
  readonly evidence?: Readonly<Record<string, unknown>>;
  /** Validate and return the event that would be written, without writing it. */
  readonly dryRun?: boolean;
}

export interface AliasChange {
  readonly event: AliasEvent;
  readonly dryRun: boolean;
}

export interface CurrentAliases {
  readonly champion: string | undefined;
  readonly challenger: string | undefined;
}

export interface ModelRegistryDeps {
  readonly storage: RegistryStorage;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Champion versions in force, oldest first, after replaying the champion events. */
export function championStack(history: readonly AliasEvent[]): string[] {
  const stack: string[] = [];
  for (const event of history) {
    if (event.alias !== 'champion') continue;
    if (event.action === 'rollback') {
      const at = stack.lastIndexOf(event.version);
      if (at >= 0) stack.length = at + 1;
      else stack.splice(0, stack.length, event.version);
    } else if (event.version === '') {
      stack.length = 0;
    } else {
      stack.push(event.version);
    }
  }
  return stack;
}

export class ModelRegistry {
  private readonly storage: RegistryStorage;
  private readonly now: () => number;
  /** Alias changes per model are serialised: each reads the history the previous one wrote. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(deps: ModelRegistryDeps) {
    this.storage = deps.storage;
    this.now = deps.now ?? Date.now;
  }

  private serialised<T>(model: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(model) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.queues.set(model, next);
    return next;
  }

  async registerVersion(version: ModelVersion): Promise<ModelVersion> {
    await this.storage.saveVersion(version);
    return version;
  }

  versions(model: string): Promise<ModelVersion[]> {
    return this.storage.listVersions(model);
  }

  getVersion(model: string, version: string): Promise<ModelVersion | undefined> {
    return this.storage.getVersion(model, version);
  }

  history(model: string, alias?: AliasName): Promise<AliasEvent[]> {
    return this.storage.aliasHistory(model, alias);
  }

  async aliases(model: string): Promise<CurrentAliases> {
    const history = await this.storage.aliasHistory(model);
    const latest = (alias: AliasName): string | undefined => {
      const last = history.filter((e) => e.alias === alias).at(-1);
      return last === undefined || last.version === '' ? undefined : last.version;
    };
    return { champion: latest('champion'), challenger: latest('challenger') };
  }

  /** Points `champion` at `version` (which must be registered). */
  promote(model: string, version: string, options: AliasChangeOptions = {}): Promise<AliasChange> {
    return this.serialised(model, async () => {
      await this.requireVersion(model, version);
      const { champion } = await this.aliases(model);
      if (champion === version) {
        throw new RetuneError('RETUNE_CONFLICT', `${model} version ${version} is already the champion`, {
          model,
          version,
        });
      }
      return this.write(
        { model, alias: 'champion', version, previousVersion: champion ?? '', action: 'promote' },
        options,
      );
    });
  }

  /** Moves `champion` back to the previous champion, or to `to` (a registered version). */
  rollback(model: string, options: AliasChangeOptions & { readonly to?: string } = {}): Promise<AliasChange> {
    return this.serialised(model, async () => {
      const history = await this.storage.aliasHistory(model, 'champion');
      const stack = championStack(history);
      const current = stack.at(-1);
      if (current === undefined) {
        throw new RetuneError('RETUNE_CONFLICT', `${model} has no champion to roll back`, { model });
      }
      let target = options.to;
      if (target === undefined) {
        target = stack.at(-2);
        if (target === undefined) {
          throw new RetuneError(
            'RETUNE_CONFLICT',
            `${model} has had only one champion (${current}): there is no previous champion to roll back to; name one with "to"`,
            { model, current },
          );
        }
      } else {
        await this.requireVersion(model, target);
        if (target === current) {
          throw new RetuneError('RETUNE_CONFLICT', `${model} version ${target} is already the champion`, {
            model,
            version: target,
          });
        }
      }
      return this.write(
        { model, alias: 'champion', version: target, previousVersion: current, action: 'rollback' },
        options,
        `rollback from ${current} to ${target}`,
      );
    });
  }

  /** Points any alias at a registered version ('' clears it), recorded as action `set`. */
  setAlias(
    model: string,
    alias: AliasName,
    version: string,
    options: AliasChangeOptions = {},
  ): Promise<AliasChange> {
    return this.serialised(model, async () => {
      if (version !== '') await this.requireVersion(model, version);
      const current = await this.aliases(model);
      return this.write(
        { model, alias, version, previousVersion: current[alias] ?? '', action: 'set' },
        options,
      );
    });
  }

  private async requireVersion(model: string, version: string): Promise<ModelVersion> {
    const found = await this.storage.getVersion(model, version);
    if (found === undefined) {
      throw new RetuneError(
        'RETUNE_NOT_FOUND',
        `${model} has no version ${JSON.stringify(version)}; list them with GET /v1/models/${model}/versions`,
        { model, version },
      );
    }
    return found;
  }

  /** Completes the move into an event (now, actor, reason, evidence) and appends it unless a dry run. */
  private async write(
    move: Pick<AliasEvent, 'model' | 'alias' | 'version' | 'previousVersion' | 'action'>,
    options: AliasChangeOptions,
    defaultReason = '',
  ): Promise<AliasChange> {
    const event: AliasEvent = {
      model: move.model,
      alias: move.alias,
      version: move.version,
      previousVersion: move.previousVersion,
      atMs: this.now(),
      actor: options.actor ?? 'unknown',
      action: move.action,
      reason: options.reason ?? defaultReason,
      evidence: options.evidence ?? {},
    };
    const dryRun = options.dryRun === true;
    if (!dryRun) await this.storage.appendAliasEvent(event);
    return { event, dryRun };
  }
}
